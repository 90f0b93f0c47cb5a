-- The chunk an import applies, recorded before it is applied: its lines and its devices' etags
-- (and twin service versions) before, so that a run resumed after a crash between the registry
-- commit and the progress commit tells which devices the interrupted attempt reached.
ALTER TABLE bulk_jobs
  ADD COLUMN chunk_after   bigint,
  ADD COLUMN chunk_through bigint,
  -- [{"id": "...", "etag": "..." or null, "twin": n or null}, ...]
  ADD COLUMN chunk_devices jsonb;

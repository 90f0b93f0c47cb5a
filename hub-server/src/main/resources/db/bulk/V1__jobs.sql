-- Import and export jobs (POST /jobs/create), oldest first by seq.
CREATE TABLE bulk_jobs (
  seq              bigserial   PRIMARY KEY,
  job_id           text        NOT NULL UNIQUE,
  type             text        NOT NULL,
  status           text        NOT NULL,
  progress         integer     NOT NULL DEFAULT 0,
  created_time     timestamptz NOT NULL,
  start_time       timestamptz,
  end_time         timestamptz,
  input_container  text,
  input_blob       text,
  output_container text        NOT NULL,
  output_blob      text        NOT NULL,
  exclude_keys     boolean     NOT NULL DEFAULT false,
  failure_reason   text,
  -- Input lines whose outcome is committed: an import resumes after them.
  lines_done       bigint      NOT NULL DEFAULT 0,
  succeeded        bigint      NOT NULL DEFAULT 0,
  failed           bigint      NOT NULL DEFAULT 0
);
CREATE INDEX bulk_jobs_active ON bulk_jobs (seq) WHERE status IN ('enqueued', 'running');

-- Lines of an import that were not applied, committed with the job's progress.
CREATE TABLE bulk_job_errors (
  job_id     text   NOT NULL REFERENCES bulk_jobs (job_id) ON DELETE CASCADE,
  line       bigint NOT NULL,
  device_id  text,
  error_code text   NOT NULL,
  message    text   NOT NULL,
  PRIMARY KEY (job_id, line)
);

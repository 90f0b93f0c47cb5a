-- Jobs v2: one row a job, its spec as created (normalised JSON) and where it stands.
CREATE TABLE jobs (
  job_id         text        PRIMARY KEY,
  spec           jsonb       NOT NULL,
  status         text        NOT NULL,
  created_time   timestamptz NOT NULL,
  start_time     timestamptz,
  end_time       timestamptz,
  failure_reason text,
  status_message text
);

-- One row per device of a started job; the device set is fixed at the job's start.
CREATE TABLE job_devices (
  job_id            text        NOT NULL,
  device_id         text        NOT NULL,
  status            text        NOT NULL,
  created_time      timestamptz NOT NULL,
  start_time        timestamptz,
  end_time          timestamptz,
  last_updated      timestamptz NOT NULL,
  outcome           jsonb,
  error_code        text,
  error_description text,
  PRIMARY KEY (job_id, device_id)
);

-- Pending cloud-to-device messages, one row each; seq orders a device's queue.
CREATE TABLE c2d_messages (
  device_id          text        NOT NULL,
  seq                bigint      NOT NULL,
  message_id         text        NOT NULL,
  correlation_id     text,
  ack                text        NOT NULL,
  generation_id      text        NOT NULL,
  enqueued_time      timestamptz NOT NULL,
  expiry_time        timestamptz NOT NULL,
  delivery_count     integer     NOT NULL,
  max_delivery_count integer     NOT NULL,
  content_type       text,
  content_encoding   text,
  properties         text        NOT NULL,
  body               bytea       NOT NULL,
  PRIMARY KEY (device_id, seq)
);

-- Feedback records waiting for the service to read them.
CREATE TABLE c2d_feedback (
  id                   bigserial   PRIMARY KEY,
  original_message_id  text        NOT NULL,
  device_id            text        NOT NULL,
  device_generation_id text        NOT NULL,
  enqueued_time        timestamptz NOT NULL,
  status_code          text        NOT NULL,
  description          text        NOT NULL,
  created              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX c2d_feedback_created ON c2d_feedback (created);

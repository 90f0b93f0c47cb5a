-- Device identities, one column per field so that a fleet of millions loads without parsing
-- documents. Times are 100 ns ticks since the epoch (IoT Hub's precision; timestamptz has only
-- microseconds); version orders changes and derives the etag.
CREATE TABLE registry_devices (
  device_id            text PRIMARY KEY,
  version              bigint NOT NULL,
  generation_id        text NOT NULL,
  status               text NOT NULL,
  status_reason        text,
  status_updated       bigint,
  last_activity        bigint,
  connection_updated   bigint,
  c2d_message_count    int NOT NULL,
  auth_type            text NOT NULL,
  primary_key          text,
  secondary_key        text,
  primary_thumbprint   text,
  secondary_thumbprint text,
  iot_edge             boolean NOT NULL,
  device_scope         text,
  parent_scopes        text NOT NULL
);

-- Module identities, fewer by far: IoT Hub's identity JSON (keys included).

CREATE TABLE registry_modules (
  device_id text NOT NULL REFERENCES registry_devices (device_id) ON DELETE CASCADE,
  module_id text NOT NULL,
  version   bigint NOT NULL,
  doc       text NOT NULL,
  PRIMARY KEY (device_id, module_id)
);

-- Shared access policies of the hub (iothubowner, service, ...).
CREATE TABLE hub_access_policies (
  name          text PRIMARY KEY,
  rights        text NOT NULL,
  primary_key   text NOT NULL,
  secondary_key text NOT NULL
);

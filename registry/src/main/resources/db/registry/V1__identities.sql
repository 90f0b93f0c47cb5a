-- Device and module identities. The document is IoT Hub's identity JSON (keys included), so a
-- row reads back exactly as it was served; version orders changes and derives the etag.
CREATE TABLE registry_devices (
  device_id text PRIMARY KEY,
  version   bigint NOT NULL,
  doc       text NOT NULL
);

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

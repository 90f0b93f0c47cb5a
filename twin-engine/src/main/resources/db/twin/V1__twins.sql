-- Twins: tags, desired and reported with their metadata in Herd's binary storage form
-- (io.herd.core.twin.TwinCodec). The
-- generation ties a twin to one life of its identity; a re-created device starts empty.
CREATE TABLE twins (
  device_id  text NOT NULL,
  module_id  text NOT NULL DEFAULT '',
  generation text NOT NULL,
  version    bigint NOT NULL,
  state      bytea NOT NULL,
  PRIMARY KEY (device_id, module_id)
) WITH (fillfactor = 50);
-- Half-empty pages let an update write the new row version next to the old one (a HOT update),
-- so the hot path of twin changes never touches the index.

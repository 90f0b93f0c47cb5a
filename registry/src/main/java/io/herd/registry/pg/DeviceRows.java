package io.herd.registry.pg;

import io.herd.core.twin.Ticks;
import io.herd.registry.Authentication;
import io.herd.registry.AuthenticationType;
import io.herd.registry.ConnectionState;
import io.herd.registry.Device;
import io.herd.registry.DeviceStatus;
import io.vertx.core.json.JsonArray;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Devices to and from the columns of {@code registry_devices}. */
final class DeviceRows {
  static final String COLUMNS =
      "device_id, version, generation_id, status, status_reason, status_updated, last_activity,"
          + " connection_updated, c2d_message_count, auth_type, primary_key, secondary_key,"
          + " primary_thumbprint, secondary_thumbprint, iot_edge, device_scope, parent_scopes";

  static final String SELECT = "SELECT " + COLUMNS + " FROM registry_devices";

  static final String UPSERT =
      "INSERT INTO registry_devices ("
          + COLUMNS
          + ") SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::text[],"
          + " $6::int8[], $7::int8[], $8::int8[], $9::int4[], $10::text[], $11::text[],"
          + " $12::text[], $13::text[], $14::text[], $15::bool[], $16::text[], $17::text[])"
          + " ON CONFLICT (device_id) DO UPDATE SET version = excluded.version,"
          + " generation_id = excluded.generation_id, status = excluded.status,"
          + " status_reason = excluded.status_reason, status_updated = excluded.status_updated,"
          + " last_activity = excluded.last_activity,"
          + " connection_updated = excluded.connection_updated,"
          + " c2d_message_count = excluded.c2d_message_count, auth_type = excluded.auth_type,"
          + " primary_key = excluded.primary_key, secondary_key = excluded.secondary_key,"
          + " primary_thumbprint = excluded.primary_thumbprint,"
          + " secondary_thumbprint = excluded.secondary_thumbprint, iot_edge = excluded.iot_edge,"
          + " device_scope = excluded.device_scope, parent_scopes = excluded.parent_scopes";

  private DeviceRows() {}

  /** One array per column, for {@link #UPSERT}. */
  static Tuple tuple(List<Device> devices) {
    int n = devices.size();
    String[] id = new String[n];
    Long[] version = new Long[n];
    String[] generation = new String[n];
    String[] status = new String[n];
    String[] reason = new String[n];
    Long[] statusUpdated = new Long[n];
    Long[] lastActivity = new Long[n];
    Long[] connectionUpdated = new Long[n];
    Integer[] c2d = new Integer[n];
    String[] authType = new String[n];
    String[] primaryKey = new String[n];
    String[] secondaryKey = new String[n];
    String[] primaryThumb = new String[n];
    String[] secondaryThumb = new String[n];
    Boolean[] edge = new Boolean[n];
    String[] scope = new String[n];
    String[] parents = new String[n];
    for (int i = 0; i < n; i++) {
      Device d = devices.get(i);
      Authentication a = d.authentication();
      id[i] = d.deviceId();
      version[i] = d.version();
      generation[i] = d.generationId();
      status[i] = d.status().wire();
      reason[i] = d.statusReason();
      statusUpdated[i] = ticks(d.statusUpdatedTime());
      lastActivity[i] = ticks(d.lastActivityTime());
      connectionUpdated[i] = ticks(d.connectionStateUpdatedTime());
      c2d[i] = d.cloudToDeviceMessageCount();
      authType[i] = a.type().wire();
      primaryKey[i] = a.primaryKey();
      secondaryKey[i] = a.secondaryKey();
      primaryThumb[i] = a.primaryThumbprint();
      secondaryThumb[i] = a.secondaryThumbprint();
      edge[i] = d.iotEdge();
      scope[i] = d.deviceScope();
      parents[i] = new JsonArray(new ArrayList<>(d.parentScopes())).encode();
    }
    return Tuple.from(
        new Object[] {
          id,
          version,
          generation,
          status,
          reason,
          statusUpdated,
          lastActivity,
          connectionUpdated,
          c2d,
          authType,
          primaryKey,
          secondaryKey,
          primaryThumb,
          secondaryThumb,
          edge,
          scope,
          parents
        });
  }

  static Device device(Row r) {
    String parentsJson = r.getString(16);
    List<String> parents = new ArrayList<>();
    if (!"[]".equals(parentsJson)) {
      new JsonArray(parentsJson).forEach(p -> parents.add((String) p));
    }
    return new Device(
        r.getString(0),
        r.getString(2),
        r.getLong(1),
        DeviceStatus.parse("status", r.getString(3)),
        r.getString(4),
        instant(r.getLong(5)),
        ConnectionState.DISCONNECTED,
        instant(r.getLong(7)),
        instant(r.getLong(6)),
        r.getInteger(8),
        new Authentication(
            AuthenticationType.parse("auth_type", r.getString(9)),
            r.getString(10),
            r.getString(11),
            r.getString(12),
            r.getString(13)),
        r.getBoolean(14),
        r.getString(15),
        parents);
  }

  private static Long ticks(Instant t) {
    return t == null ? null : Ticks.of(t);
  }

  private static Instant instant(Long ticks) {
    return ticks == null ? null : Ticks.toInstant(ticks);
  }
}

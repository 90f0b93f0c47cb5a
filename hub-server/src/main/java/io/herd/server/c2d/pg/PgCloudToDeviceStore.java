package io.herd.server.c2d.pg;

import io.herd.core.pg.Statements;
import io.herd.server.c2d.AckMode;
import io.herd.server.c2d.CloudToDeviceStore;
import io.herd.server.c2d.Feedback;
import io.herd.server.c2d.FeedbackStatus;
import io.herd.server.c2d.QueueChange;
import io.herd.server.c2d.QueuedMessage;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/** The queues in PostgreSQL: a batch of changes is one transaction of batched statements. */
public final class PgCloudToDeviceStore implements CloudToDeviceStore {
  private static final String COLUMNS =
      "device_id, seq, message_id, correlation_id, ack, generation_id, enqueued_time,"
          + " expiry_time, delivery_count, max_delivery_count, content_type, content_encoding,"
          + " properties, body";
  private static final String INSERT =
      "INSERT INTO c2d_messages ("
          + COLUMNS
          + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
  private static final String ATTEMPT =
      "UPDATE c2d_messages SET delivery_count = $3 WHERE device_id = $1 AND seq = $2";
  private static final String REMOVE = "DELETE FROM c2d_messages WHERE device_id = $1 AND seq = $2";
  private static final String PURGE = "DELETE FROM c2d_messages WHERE device_id = $1";
  private static final String ADD_FEEDBACK =
      "INSERT INTO c2d_feedback (original_message_id, device_id, device_generation_id,"
          + " enqueued_time, status_code, description) VALUES ($1, $2, $3, $4, $5, $6)";
  private static final String TAKE_FEEDBACK =
      "DELETE FROM c2d_feedback WHERE id IN (SELECT id FROM c2d_feedback ORDER BY id LIMIT $1"
          + " FOR UPDATE SKIP LOCKED) RETURNING id, original_message_id, device_id,"
          + " device_generation_id, enqueued_time, status_code, description";

  private static final String EXPIRE_FEEDBACK = "DELETE FROM c2d_feedback WHERE created < $1";

  private final Pool pool;

  public PgCloudToDeviceStore(Pool pool) {
    this.pool = pool;
  }

  @Override
  public Future<Long> loadAll(Consumer<QueuedMessage> sink) {
    return pool.query("SELECT " + COLUMNS + " FROM c2d_messages ORDER BY seq")
        .execute()
        .map(
            rows -> {
              long max = 0;
              for (Row r : rows) {
                QueuedMessage m = message(r);
                max = Math.max(max, m.seq());
                sink.accept(m);
              }
              return max;
            });
  }

  @Override
  public Future<Void> apply(List<QueueChange> changes) {
    List<Function<SqlClient, Future<?>>> steps = new ArrayList<>();
    // Between purges, changes are grouped by kind into one batched statement each: inserts, then
    // delivery attempts, then removals, then feedback. Arriving interleaved (new messages and
    // PUBACK completions), they would otherwise cost a round trip per run of one kind. The order
    // is safe: a message is inserted before anything else touches it, and an attempt or a removal
    // of a removed row does nothing. A purge keeps its place, so it never takes a later insert.
    List<List<Tuple>> groups = new ArrayList<>();
    for (int k = 0; k < GROUP_ORDER.size(); k++) {
      groups.add(new ArrayList<>());
    }
    for (QueueChange c : changes) {
      if (c instanceof QueueChange.Purge) {
        flush(groups, steps);
        Tuple args = argsOf(c);
        steps.add(client -> client.preparedQuery(PURGE).execute(args));
      } else {
        groups.get(GROUP_ORDER.indexOf(sqlOf(c))).add(argsOf(c));
      }
    }
    flush(groups, steps);
    return Statements.atomically(pool, steps);
  }

  /** The statements of one segment between purges, in the order they run. */
  private static final List<String> GROUP_ORDER = List.of(INSERT, ATTEMPT, REMOVE, ADD_FEEDBACK);

  private static void flush(List<List<Tuple>> groups, List<Function<SqlClient, Future<?>>> steps) {
    for (int k = 0; k < groups.size(); k++) {
      List<Tuple> args = groups.get(k);
      if (!args.isEmpty()) {
        String sql = GROUP_ORDER.get(k);
        List<Tuple> batch = List.copyOf(args);
        steps.add(c -> c.preparedQuery(sql).executeBatch(batch));
        args.clear();
      }
    }
  }

  @Override
  public Future<Void> expireFeedback(Instant before) {
    return pool.preparedQuery(EXPIRE_FEEDBACK).execute(Tuple.of(offset(before))).mapEmpty();
  }

  @Override
  public Future<List<Feedback>> takeFeedback(int max) {
    return pool.preparedQuery(TAKE_FEEDBACK)
        .execute(Tuple.of(max))
        .map(
            rows -> {
              List<Row> sorted = new ArrayList<>();
              rows.forEach(sorted::add);
              sorted.sort(Comparator.comparingLong(r -> r.getLong(0)));
              List<Feedback> out = new ArrayList<>(sorted.size());
              for (Row r : sorted) {
                out.add(
                    new Feedback(
                        r.getString(1),
                        r.getString(2),
                        r.getString(3),
                        instant(r.getOffsetDateTime(4)),
                        FeedbackStatus.fromWire(r.getString(5)),
                        r.getString(6)));
              }
              return out;
            });
  }

  private static String sqlOf(QueueChange c) {
    if (c instanceof QueueChange.Insert) {
      return INSERT;
    } else if (c instanceof QueueChange.Attempt) {
      return ATTEMPT;
    } else if (c instanceof QueueChange.Remove) {
      return REMOVE;
    } else if (c instanceof QueueChange.Purge) {
      return PURGE;
    }
    return ADD_FEEDBACK;
  }

  private static Tuple argsOf(QueueChange c) {
    if (c instanceof QueueChange.Insert ins) {
      QueuedMessage m = ins.message();
      JsonObject props = new JsonObject();
      m.properties().forEach(props::put);
      return Tuple.from(
          new Object[] {
            m.deviceId(),
            m.seq(),
            m.messageId(),
            m.correlationId(),
            m.ack().wire(),
            m.generationId(),
            offset(m.enqueuedTime()),
            offset(m.expiryTime()),
            m.deliveryCount(),
            m.maxDeliveryCount(),
            m.contentType(),
            m.contentEncoding(),
            props.encode(),
            Buffer.buffer(m.body())
          });
    } else if (c instanceof QueueChange.Attempt a) {
      return Tuple.of(a.deviceId(), a.seq(), a.deliveryCount());
    } else if (c instanceof QueueChange.Remove r) {
      return Tuple.of(r.deviceId(), r.seq());
    } else if (c instanceof QueueChange.Purge p) {
      return Tuple.of(p.deviceId());
    }
    Feedback f = ((QueueChange.AddFeedback) c).feedback();
    return Tuple.of(
        f.originalMessageId(),
        f.deviceId(),
        f.deviceGenerationId(),
        offset(f.enqueuedTimeUtc()),
        f.statusCode().wire(),
        f.description());
  }

  private static QueuedMessage message(Row r) {
    Map<String, String> props = new LinkedHashMap<>();
    new JsonObject(r.getString(12))
        .forEach(e -> props.put(e.getKey(), String.valueOf(e.getValue())));
    return new QueuedMessage(
        r.getString(0),
        r.getLong(1),
        r.getString(2),
        r.getString(3),
        AckMode.parse(r.getString(4)),
        r.getString(5),
        instant(r.getOffsetDateTime(6)),
        instant(r.getOffsetDateTime(7)),
        r.getInteger(8),
        r.getInteger(9),
        r.getString(10),
        r.getString(11),
        props,
        r.getBuffer(13).getBytes());
  }

  private static OffsetDateTime offset(Instant t) {
    return t.atOffset(ZoneOffset.UTC);
  }

  private static Instant instant(OffsetDateTime t) {
    return t.toInstant();
  }
}

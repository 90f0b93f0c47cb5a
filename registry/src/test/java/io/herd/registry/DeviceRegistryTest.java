package io.herd.registry;

import static io.herd.testkit.FailedFutures.codeOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.core.ErrorCode;
import io.herd.core.HubException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DeviceRegistryTest {
  private Vertx vertx;
  private FakeIdentityStore store;
  private DeviceRegistry registry;

  @BeforeEach
  void open() {
    vertx = Vertx.vertx();
    store = new FakeIdentityStore();
    registry = Future.await(DeviceRegistry.open(vertx, store));
  }

  @AfterEach
  void close() {
    Future.await(vertx.close());
  }

  private static DeviceSpec spec(String id) {
    return new DeviceSpec(id, DeviceStatus.ENABLED, null, null, false, null, List.of());
  }

  @Test
  void createGeneratesDistinct32ByteKeysAndAGeneration() {
    Device d = Future.await(registry.create(spec("d1")));
    assertThat(Base64.getDecoder().decode(d.authentication().primaryKey())).hasSize(32);
    assertThat(d.authentication().primaryKey()).isNotEqualTo(d.authentication().secondaryKey());
    assertThat(d.generationId()).matches("\\d{18}");
    assertThat(d.connectionState()).isEqualTo(ConnectionState.DISCONNECTED);
    assertThat(registry.find("d1")).contains(d);
    assertThat(store.devices).containsKey("d1");
  }

  @Test
  void cloudToDeviceCountIsMemoryOnlyNotifiesListenersAndSurvivesAnUpdate() throws Exception {
    Future.await(registry.create(spec("d1")));
    java.util.concurrent.BlockingQueue<IdentityChange> seen =
        new java.util.concurrent.LinkedBlockingQueue<>();
    registry.onChange(seen::add);
    registry.cloudToDeviceMessageCountChanged("d1", 3);
    registry.cloudToDeviceMessageCountChanged("nope", 1);
    IdentityChange c = seen.poll(5, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(c).isInstanceOf(IdentityChange.PutDevice.class);
    assertThat(((IdentityChange.PutDevice) c).device().cloudToDeviceMessageCount()).isEqualTo(3);
    assertThat(registry.find("d1").orElseThrow().cloudToDeviceMessageCount()).isEqualTo(3);
    Device updated =
        Future.await(
            registry.update(
                new DeviceSpec("d1", DeviceStatus.DISABLED, null, null, false, null, List.of()),
                "*"));
    assertThat(updated.cloudToDeviceMessageCount()).isEqualTo(3);
  }

  @Test
  void secondCreateOfTheSameIdConflicts() {
    Future.await(registry.create(spec("d1")));
    assertThat(codeOf(registry.create(spec("d1")))).isEqualTo(ErrorCode.DEVICE_ALREADY_EXISTS);
  }

  @Test
  void updateChecksEtagAndKeepsKeysWhenNoneAreGiven() {
    Device d = Future.await(registry.create(spec("d1")));
    DeviceSpec disable =
        new DeviceSpec("d1", DeviceStatus.DISABLED, "stolen", null, false, null, List.of());
    assertThat(codeOf(registry.update(disable, "\"bm9wZQ==\"")))
        .isEqualTo(ErrorCode.PRECONDITION_FAILED);
    Device u = Future.await(registry.update(disable, "\"" + d.etag() + "\""));
    assertThat(u.etag()).isNotEqualTo(d.etag());
    assertThat(u.status()).isEqualTo(DeviceStatus.DISABLED);
    assertThat(u.statusReason()).isEqualTo("stolen");
    assertThat(u.statusUpdatedTime()).isNotNull();
    assertThat(u.authentication()).isEqualTo(d.authentication());
    assertThat(u.generationId()).isEqualTo(d.generationId());
    assertThat(codeOf(registry.update(spec("nope"), "*"))).isEqualTo(ErrorCode.DEVICE_NOT_FOUND);
  }

  @Test
  void deleteRemovesModulesAndRecreateGetsANewGeneration() {
    Device d = Future.await(registry.create(spec("d1")));
    Future.await(registry.createModule(new ModuleSpec("d1", "m1", null, null)));
    Future.await(registry.delete("d1", "*"));
    assertThat(registry.find("d1")).isEmpty();
    assertThat(registry.findModule("d1", "m1")).isEmpty();
    assertThat(registry.size()).isZero();
    Device again = Future.await(registry.create(spec("d1")));
    assertThat(again.generationId()).isNotEqualTo(d.generationId());
    assertThat(codeOf(registry.delete("d1", "\"x\""))).isEqualTo(ErrorCode.PRECONDITION_FAILED);
    assertThat(codeOf(registry.delete("zz", "*"))).isEqualTo(ErrorCode.DEVICE_NOT_FOUND);
  }

  @Test
  void aFailedCommitChangesNothingVisible() {
    store.failNext = true;
    assertThat(codeOf(registry.create(spec("d1")))).isEqualTo(ErrorCode.SERVER_ERROR);
    assertThat(registry.find("d1")).isEmpty();
    assertThat(registry.statistics().totalDeviceCount()).isZero();
  }

  @Test
  void modulesNeedTheirDeviceAndConflictOnSecondCreate() {
    assertThat(codeOf(registry.createModule(new ModuleSpec("d1", "m1", null, null))))
        .isEqualTo(ErrorCode.DEVICE_NOT_FOUND);
    Future.await(registry.create(spec("d1")));
    Module m = Future.await(registry.createModule(new ModuleSpec("d1", "m1", "me", null)));
    assertThat(m.authentication().primaryKey()).isNotBlank();
    assertThat(codeOf(registry.createModule(new ModuleSpec("d1", "m1", null, null))))
        .isEqualTo(ErrorCode.MODULE_ALREADY_EXISTS_ON_DEVICE);
    Module u = Future.await(registry.updateModule(new ModuleSpec("d1", "m1", "you", null), "*"));
    assertThat(u.managedBy()).isEqualTo("you");
    assertThat(Future.await(registry.listModules("d1"))).containsExactly(u);
    Future.await(registry.deleteModule("d1", "m1", "*"));
    assertThat(codeOf(registry.getModule("d1", "m1"))).isEqualTo(ErrorCode.MODULE_NOT_FOUND);
  }

  @Test
  void bulkAppliesWhatItCanAndReportsTheRest() {
    Future.await(registry.create(spec("exists")));
    List<BulkOperation> ops =
        List.of(
            new BulkOperation(ImportMode.CREATE, spec("exists"), null, null),
            new BulkOperation(ImportMode.CREATE, spec("new1"), null, null),
            new BulkOperation(ImportMode.UPDATE, spec("missing"), null, null),
            new BulkOperation(ImportMode.DELETE_IF_MATCH_ETAG, spec("exists"), "bad", null));
    // "exists" twice is a request error, not a per-entry one.
    assertThat(codeOf(registry.bulk(ops))).isEqualTo(ErrorCode.DEVICE_DEFINED_MULTIPLE_TIMES);

    BulkResult r =
        Future.await(
            registry.bulk(
                List.of(
                    new BulkOperation(ImportMode.CREATE, spec("exists"), null, null),
                    new BulkOperation(ImportMode.CREATE, spec("new1"), null, null),
                    new BulkOperation(ImportMode.UPDATE, spec("missing"), null, null))));
    assertThat(r.isSuccessful()).isFalse();
    assertThat(r.errors())
        .extracting(BulkError::deviceId, BulkError::errorCode)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("exists", ErrorCode.DEVICE_ALREADY_EXISTS),
            org.assertj.core.groups.Tuple.tuple("missing", ErrorCode.DEVICE_NOT_FOUND));
    assertThat(registry.find("new1")).isPresent();

    String etag = registry.find("exists").orElseThrow().etag();
    BulkResult del =
        Future.await(
            registry.bulk(
                List.of(
                    new BulkOperation(ImportMode.DELETE_IF_MATCH_ETAG, spec("exists"), "bad", null),
                    new BulkOperation(ImportMode.DELETE, spec("new1"), null, null))));
    assertThat(del.errors())
        .extracting(BulkError::errorCode)
        .containsExactly(ErrorCode.PRECONDITION_FAILED);
    assertThat(registry.find("new1")).isEmpty();
    assertThat(
            Future.await(
                    registry.bulk(
                        List.of(
                            new BulkOperation(
                                ImportMode.DELETE_IF_MATCH_ETAG, spec("exists"), etag, null))))
                .isSuccessful())
        .isTrue();
  }

  @Test
  void bulkOfAHundredCommitsOnce() {
    List<BulkOperation> ops = new ArrayList<>();
    IntStream.range(0, 100)
        .forEach(i -> ops.add(new BulkOperation(ImportMode.CREATE, spec("b" + i), null, null)));
    int before = store.commits.size();
    assertThat(Future.await(registry.bulk(ops)).isSuccessful()).isTrue();
    assertThat(store.commits.size() - before).isEqualTo(1);
    assertThat(registry.statistics().totalDeviceCount()).isEqualTo(100);
    ops.add(new BulkOperation(ImportMode.CREATE, spec("b100"), null, null));
    assertThat(codeOf(registry.bulk(ops))).isEqualTo(ErrorCode.TOO_MANY_DEVICES);
  }

  @Test
  void concurrentUpdatesOfOneDeviceAllApplyInSomeOrder() {
    Future.await(registry.create(spec("d1")));
    List<Future<Device>> all = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      String reason = "r" + i;
      all.add(
          registry.update(
              new DeviceSpec("d1", DeviceStatus.ENABLED, reason, null, false, null, List.of()),
              "*"));
    }
    Future.await(Future.all(all));
    List<Long> versions = all.stream().map(f -> f.result().version()).sorted().toList();
    assertThat(versions).doesNotHaveDuplicates().hasSize(200);
    Device last = registry.find("d1").orElseThrow();
    assertThat(last.version()).isEqualTo(versions.get(versions.size() - 1));
  }

  @Test
  void statisticsCountEnabledAndDisabled() {
    Future.await(registry.create(spec("a")));
    Future.await(
        registry.create(
            new DeviceSpec("b", DeviceStatus.DISABLED, null, null, false, null, List.of())));
    RegistryStatistics s = registry.statistics();
    assertThat(s.totalDeviceCount()).isEqualTo(2);
    assertThat(s.enabledDeviceCount()).isEqualTo(1);
    assertThat(s.disabledDeviceCount()).isEqualTo(1);
  }

  @Test
  void reopeningLoadsEverythingAndVersionsKeepGrowing() {
    Device d = Future.await(registry.create(spec("d1")));
    Future.await(registry.createModule(new ModuleSpec("d1", "m1", null, null)));
    DeviceRegistry again = Future.await(DeviceRegistry.open(vertx, store));
    assertThat(again.find("d1")).contains(d);
    assertThat(again.findModule("d1", "m1")).isPresent();
    Device next = Future.await(again.create(spec("d2")));
    assertThat(next.version()).isGreaterThan(again.findModule("d1", "m1").orElseThrow().version());
  }

  @Test
  void twinOnlyModesLeaveTheIdentityAloneAndNeedTheDevice() {
    Device d = Future.await(registry.create(spec("t1")));
    BulkResult r =
        Future.await(
            registry.bulk(
                List.of(
                    new BulkOperation(ImportMode.UPDATE_TWIN, spec("t1"), null, null),
                    new BulkOperation(ImportMode.UPDATE_TWIN, spec("t2"), null, null))));
    assertThat(r.errors())
        .extracting(BulkError::deviceId, BulkError::errorCode)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("t2", ErrorCode.DEVICE_NOT_FOUND));
    assertThat(registry.find("t1")).contains(d);
    assertThatThrownBy(() -> Future.await(registry.get("t2"))).isInstanceOf(HubException.class);
  }

  @Test
  void listenersSeeCommittedChangesInOrder() {
    List<IdentityChange> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    registry.onChange(seen::add);
    Future.await(registry.create(spec("l1")));
    Future.await(registry.createModule(new ModuleSpec("l1", "m", null, null)));
    Future.await(registry.delete("l1", "*"));
    store.failNext = true;
    codeOf(registry.create(spec("l2")));
    assertThat(seen)
        .extracting(c -> c.getClass().getSimpleName())
        .containsExactly("PutDevice", "PutModule", "DeleteDevice");
  }
}

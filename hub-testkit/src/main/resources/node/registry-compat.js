'use strict';
/*
 * Identity-registry compatibility checks for a Herd hub, driven only through the public API of the
 * official service SDK (azure-iothub 1.16.6, Registry.fromConnectionString).
 *
 * Environment:
 *   HERD_SERVICE_CS       iothubowner connection string (HostName=localhost;SharedAccessKeyName=...;SharedAccessKey=...)
 *   HERD_READONLY_CS      connection string of a registryRead policy
 *   HERD_BAD_CS           optional: same hub, wrong key (default: HERD_SERVICE_CS with a random key)
 *   HERD_CALL_TIMEOUT_MS  optional: timeout of each SDK call in ms (default 10000)
 *   NODE_EXTRA_CA_CERTS   the hub's CA (the service SDK has no CA option; Node reads this at start-up)
 *
 * Output, one line per check: "ok <name>" or "not ok <name>: <details>"; lines starting with "#" are
 * comments; the last line is "N passed, M failed". Exit code 1 if any check failed.
 */

const crypto = require('crypto');
const { Registry } = require('azure-iothub');
// azure-iothub 1.16.6 neither re-exports its error classes nor uses azure-iot-common: it throws the classes
// of its own dist/common-core/errors.js, so instanceof only works against that very module.
const errors = require('azure-iothub/dist/common-core/errors');

const h = require('./compat-harness')({ checkTimeoutFactor: 8 });
const { CALL_TIMEOUT_MS, SUFFIX, CheckFailure, check, describe, httpStatus, assert, assertEq, timed, sdk, sdkError } = h;
const id = (name) => `compat-${h.SUFFIX}-${name}`;



const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function assertGeneratedKey(key, what) {
  assert(typeof key === 'string' && key.length > 0, `${what}: expected a generated key, got ${JSON.stringify(key)}`);
  assert(BASE64.test(key) && Buffer.from(key, 'base64').length >= 16, `${what}: not a base64 key of >= 16 bytes: ${key}`);
}

const randomKey = () => crypto.randomBytes(32).toString('base64');
const randomThumbprint = () => crypto.randomBytes(20).toString('hex').toUpperCase();
const sameHex = (a, b) => typeof a === 'string' && typeof b === 'string' && a.toUpperCase() === b.toUpperCase();
const keysOf = (identity) => (identity.authentication && identity.authentication.symmetricKey) || {};

function withKey(connectionString, key) {
  return connectionString
    .split(';')
    .map((part) => (part.startsWith('SharedAccessKey=') ? `SharedAccessKey=${key}` : part))
    .join(';');
}

// ---------------------------------------------------------------------------------------------------------
// The checks, in order. Later checks reuse identities created by earlier ones.

async function main() {
  const serviceCs = process.env.HERD_SERVICE_CS;
  if (!serviceCs) {
    h.fail('environment', 'HERD_SERVICE_CS is not set');
    return;
  }
  let badCs = process.env.HERD_BAD_CS;
  if (!badCs) {
    badCs = withKey(serviceCs, randomKey());
    console.log('# HERD_BAD_CS not set: using HERD_SERVICE_CS with a random key');
  }
  const readOnlyCs = process.env.HERD_READONLY_CS;
  console.log(`# device ids start with compat-${SUFFIX}-; per-call timeout ${CALL_TIMEOUT_MS} ms`);

  const registry = Registry.fromConnectionString(serviceCs);
  const created = {}; // name -> identity as the hub returned it
  const live = new Map(); // deviceId -> status, for the statistics check
  const touched = new Set(); // every device id we may have created, for the final clean-up
  const need = (name) => {
    assert(created[name], `needs device '${name}' from an earlier check`);
    return created[name];
  };
  const create = async (what, device) => {
    touched.add(device.deviceId);
    const result = await sdk(what, () => registry.create(device));
    live.set(result.deviceId, result.status);
    return result;
  };

  // 1. Create with no authentication: the SDK sends empty SAS keys, which asks the hub to generate them.
  await check('create-device-generated-keys', async () => {
    const d = await create('create', { deviceId: id('gen') });
    assertEq(d.deviceId, id('gen'), 'deviceId');
    assertEq(d.authentication.type, 'sas', 'authentication.type');
    assertGeneratedKey(keysOf(d).primaryKey, 'primaryKey');
    assertGeneratedKey(keysOf(d).secondaryKey, 'secondaryKey');
    assert(keysOf(d).primaryKey !== keysOf(d).secondaryKey, 'primary and secondary keys are equal');
    assertEq(d.status, 'enabled', 'status');
    assert(typeof d.generationId === 'string' && d.generationId.length > 0, `generationId missing: ${d.generationId}`);
    assert(typeof d.etag === 'string' && d.etag.length > 0, `etag missing: ${d.etag}`);
    // The SDK's Device defaults to lower-case 'disconnected', so this proves the hub sent the field.
    assertEq(d.connectionState, 'Disconnected', 'connectionState');
    created.gen = d;
  });

  // 2. Explicit symmetric keys are stored as given.
  await check('create-device-explicit-keys', async () => {
    const keys = { primaryKey: randomKey(), secondaryKey: randomKey() };
    const d = await create('create', { deviceId: id('sas'), authentication: { type: 'sas', symmetricKey: keys } });
    assertEq(d.authentication.type, 'sas', 'authentication.type');
    assertEq(keysOf(d).primaryKey, keys.primaryKey, 'primaryKey');
    assertEq(keysOf(d).secondaryKey, keys.secondaryKey, 'secondaryKey');
    created.sas = d;
  });

  // 3. X.509 devices keep their authentication type (and thumbprints) and get no SAS keys.
  await check('create-device-x509-self-signed', async () => {
    const thumbprints = { primaryThumbprint: randomThumbprint(), secondaryThumbprint: randomThumbprint() };
    const d = await create('create', {
      deviceId: id('x509'),
      authentication: { type: 'selfSigned', x509Thumbprint: thumbprints },
    });
    for (const [what, device] of [['create', d], ['get', await sdk('get', () => registry.get(d.deviceId))]]) {
      assertEq(device.authentication.type, 'selfSigned', `${what}: authentication.type`);
      const tp = device.authentication.x509Thumbprint || {};
      assert(sameHex(tp.primaryThumbprint, thumbprints.primaryThumbprint), `${what}: primaryThumbprint ${tp.primaryThumbprint}`);
      assert(sameHex(tp.secondaryThumbprint, thumbprints.secondaryThumbprint), `${what}: secondaryThumbprint ${tp.secondaryThumbprint}`);
      assert(!keysOf(device).primaryKey, `${what}: an X.509 device got a SAS key`);
    }
    created.x509 = d;
  });

  await check('create-device-x509-ca', async () => {
    const d = await create('create', { deviceId: id('ca'), authentication: { type: 'certificateAuthority' } });
    for (const [what, device] of [['create', d], ['get', await sdk('get', () => registry.get(d.deviceId))]]) {
      assertEq(device.authentication.type, 'certificateAuthority', `${what}: authentication.type`);
      assert(!keysOf(device).primaryKey, `${what}: a CA-authenticated device got a SAS key`);
    }
    created.ca = d;
  });

  // 4. Reads return what was created.
  await check('get-device', async () => {
    const expected = need('gen');
    const d = await sdk('get', () => registry.get(expected.deviceId));
    for (const field of ['deviceId', 'generationId', 'etag', 'status', 'connectionState']) {
      assertEq(d[field], expected[field], field);
    }
    assertEq(d.authentication.type, 'sas', 'authentication.type');
    assertEq(keysOf(d).primaryKey, keysOf(expected).primaryKey, 'primaryKey');
    assertEq(keysOf(d).secondaryKey, keysOf(expected).secondaryKey, 'secondaryKey');
  });

  await check('list-devices', async () => {
    const devices = await sdk('list', () => registry.list());
    assert(Array.isArray(devices), `expected an array, got ${JSON.stringify(devices)}`);
    const ids = new Set(devices.map((d) => d.deviceId));
    const missing = Object.values(created).map((d) => d.deviceId).filter((x) => !ids.has(x));
    assert(Object.keys(created).length > 0, 'no device was created earlier');
    assert(missing.length === 0, `list lacks ${missing.join(', ')} (got ${devices.length} devices)`);
  });

  // 5. Update the way SDK users do: get, change, put back the whole object (the SDK sends If-Match "*").
  await check('update-device', async () => {
    const deviceId = need('sas').deviceId;
    const before = await sdk('get', () => registry.get(deviceId));
    const reason = `disabled by compat ${SUFFIX}`;
    const updated = await sdk('update', () => registry.update({ ...before, status: 'disabled', statusReason: reason }));
    assertEq(updated.status, 'disabled', 'update: status');
    assertEq(updated.statusReason, reason, 'update: statusReason');
    assert(updated.etag && updated.etag !== before.etag, `update: etag did not change (${before.etag})`);
    assertEq(updated.generationId, before.generationId, 'update: generationId');
    assertEq(keysOf(updated).primaryKey, keysOf(before).primaryKey, 'update: primaryKey');
    live.set(updated.deviceId, 'disabled');
    const after = await sdk('get', () => registry.get(before.deviceId));
    assertEq(after.status, 'disabled', 'get: status');
    assertEq(after.statusReason, reason, 'get: statusReason');
    assertEq(after.etag, updated.etag, 'get: etag');
  });

  // 6-8. Error mapping: the SDK picks the error class from the HTTP status and the legacy error body.
  await check('create-existing-device-conflict', async () => {
    const deviceId = need('gen').deviceId;
    await sdkError('create again', () => registry.create({ deviceId }), errors.DeviceAlreadyExistsError, 409);
  });

  await check('get-unknown-device', async () => {
    await sdkError('get', () => registry.get(id('missing')), errors.DeviceNotFoundError, 404);
  });

  await check('delete-device', async () => {
    const deviceId = need('gen').deviceId;
    await sdk('delete', () => registry.delete(deviceId));
    live.delete(deviceId);
    await sdkError('get after delete', () => registry.get(deviceId), errors.DeviceNotFoundError, 404);
  });

  await check('delete-unknown-device', async () => {
    await sdkError('delete', () => registry.delete(id('missing')), errors.DeviceNotFoundError, 404);
  });

  // 9. Bulk operations (POST /devices with importMode per device).
  const bulkKeys = { primaryKey: randomKey(), secondaryKey: randomKey() };
  const bulkIds = [id('bulk1'), id('bulk2'), id('bulk3')];
  await check('bulk-add', async () => {
    bulkIds.forEach((x) => touched.add(x));
    const result = await sdk('addDevices', () =>
      registry.addDevices([
        { deviceId: bulkIds[0], authentication: { symmetricKey: bulkKeys } },
        { deviceId: bulkIds[1], authentication: { symmetricKey: bulkKeys } },
        { deviceId: bulkIds[2] }, // no keys: generated
      ]),
    );
    assertEq(result && result.isSuccessful, true, 'isSuccessful');
    for (const deviceId of bulkIds) {
      const d = await sdk(`get ${deviceId}`, () => registry.get(deviceId));
      live.set(deviceId, d.status);
      assertEq(d.status, 'enabled', `${deviceId}: status`);
      if (deviceId === bulkIds[2]) assertGeneratedKey(keysOf(d).primaryKey, `${deviceId}: primaryKey`);
      else assertEq(keysOf(d).primaryKey, bulkKeys.primaryKey, `${deviceId}: primaryKey`);
    }
    created.bulk = true;
  });

  await check('bulk-add-with-existing-fails', async () => {
    need('bulk');
    const fresh = id('bulk4');
    touched.add(fresh);
    // A failed bulk call answers 400 with a BulkRegistryOperationResult body; the SDK surfaces that as an
    // ArgumentError whose responseBody is the raw JSON.
    const err = await sdkError(
      'addDevices',
      () => registry.addDevices([{ deviceId: bulkIds[0] }, { deviceId: fresh }]),
      errors.ArgumentError,
      400,
    );
    let result;
    try {
      result = JSON.parse(err.responseBody);
    } catch (e) {
      throw new CheckFailure(`responseBody is not a BulkRegistryOperationResult: ${err.responseBody}`);
    }
    assertEq(result.isSuccessful, false, 'isSuccessful');
    const entry = (result.errors || []).find((e) => e.deviceId === bulkIds[0]);
    assert(entry, `no error entry for ${bulkIds[0]}: ${err.responseBody}`);
    assert(['DeviceAlreadyExists', '409001', 409001].includes(entry.errorCode), `errorCode: ${JSON.stringify(entry.errorCode)}`);
  });

  await check('bulk-update', async () => {
    need('bulk');
    const result = await sdk('updateDevices', () =>
      registry.updateDevices(
        bulkIds.slice(0, 2).map((deviceId) => ({
          deviceId,
          status: 'disabled',
          statusReason: 'bulk',
          authentication: { symmetricKey: bulkKeys },
        })),
        true, // force: importMode Update, no etag
      ),
    );
    assertEq(result && result.isSuccessful, true, 'isSuccessful');
    for (const deviceId of bulkIds.slice(0, 2)) {
      const d = await sdk(`get ${deviceId}`, () => registry.get(deviceId));
      live.set(deviceId, d.status);
      assertEq(d.status, 'disabled', `${deviceId}: status`);
      assertEq(keysOf(d).primaryKey, bulkKeys.primaryKey, `${deviceId}: primaryKey`);
    }
  });

  await check('bulk-remove', async () => {
    need('bulk');
    const result = await sdk('removeDevices', () => registry.removeDevices(bulkIds.map((deviceId) => ({ deviceId })), true));
    bulkIds.forEach((deviceId) => live.delete(deviceId));
    assertEq(result && result.isSuccessful, true, 'isSuccessful');
    for (const deviceId of bulkIds) {
      await sdkError(`get ${deviceId}`, () => registry.get(deviceId), errors.DeviceNotFoundError, 404);
    }
  });

  // 10. Module identities. Module calls return the hub's JSON as is (no Device wrapper).
  const moduleKeys = { primaryKey: randomKey(), secondaryKey: randomKey() };
  await check('module-add', async () => {
    const device = await create('create device', { deviceId: id('mod') });
    created.mod = device;
    const m1 = await sdk('addModule m1', () => registry.addModule({ deviceId: device.deviceId, moduleId: 'm1' }));
    assertEq(m1.moduleId, 'm1', 'moduleId');
    assertEq(m1.deviceId, device.deviceId, 'deviceId');
    assert(m1.generationId && m1.etag, `generationId/etag missing: ${JSON.stringify(m1)}`);
    assertGeneratedKey(keysOf(m1).primaryKey, 'm1 primaryKey');
    assertGeneratedKey(keysOf(m1).secondaryKey, 'm1 secondaryKey');
    const m2 = await sdk('addModule m2', () =>
      registry.addModule({ deviceId: device.deviceId, moduleId: 'm2', authentication: { symmetricKey: moduleKeys } }),
    );
    assertEq(keysOf(m2).primaryKey, moduleKeys.primaryKey, 'm2 primaryKey');
    created.m1 = m1;
  });

  await check('module-get', async () => {
    const expected = need('m1');
    const m = await sdk('getModule', () => registry.getModule(expected.deviceId, 'm1'));
    for (const field of ['moduleId', 'deviceId', 'generationId', 'etag']) assertEq(m[field], expected[field], field);
    assertEq(keysOf(m).primaryKey, keysOf(expected).primaryKey, 'primaryKey');
  });

  await check('module-list', async () => {
    const deviceId = need('mod').deviceId;
    const modules = await sdk('getModulesOnDevice', () => registry.getModulesOnDevice(deviceId));
    assert(Array.isArray(modules), `expected an array, got ${JSON.stringify(modules)}`);
    const ids = modules.map((m) => m.moduleId).sort();
    assertEq(ids.join(','), 'm1,m2', 'module ids');
  });

  await check('module-update', async () => {
    const deviceId = need('m1').deviceId;
    const before = await sdk('getModule', () => registry.getModule(deviceId, 'm1'));
    // forceUpdate=false: the SDK sends If-Match with the module's etag.
    const updated = await sdk('updateModule', () => registry.updateModule({ ...before, managedBy: 'herd-compat' }, false));
    assertEq(updated.managedBy, 'herd-compat', 'update: managedBy');
    assert(updated.etag && updated.etag !== before.etag, `update: etag did not change (${before.etag})`);
    assertEq(keysOf(updated).primaryKey, keysOf(before).primaryKey, 'update: primaryKey');
    const after = await sdk('getModule', () => registry.getModule(before.deviceId, 'm1'));
    assertEq(after.managedBy, 'herd-compat', 'get: managedBy');
    assertEq(after.etag, updated.etag, 'get: etag');
  });

  await check('module-add-existing-conflict', async () => {
    // Node maps every 409 to DeviceAlreadyExistsError (the hub's code is ModuleAlreadyExistsOnDevice).
    const deviceId = need('mod').deviceId;
    await sdkError('addModule', () => registry.addModule({ deviceId, moduleId: 'm1' }), errors.DeviceAlreadyExistsError, 409);
  });

  await check('module-remove', async () => {
    const deviceId = need('mod').deviceId;
    await sdk('removeModule', () => registry.removeModule(deviceId, 'm1'));
    // A 404 whose code is not DeviceNotFound (ModuleNotFound) becomes a plain Error('Not found') in Node.
    await sdkError('getModule after remove', () => registry.getModule(deviceId, 'm1'), null, 404);
    const modules = await sdk('getModulesOnDevice', () => registry.getModulesOnDevice(deviceId));
    assertEq(modules.map((m) => m.moduleId).join(','), 'm2', 'remaining modules');
  });

  // 11. Statistics cover at least what this run still has.
  await check('registry-statistics', async () => {
    const stats = await sdk('getRegistryStatistics', () => registry.getRegistryStatistics());
    for (const field of ['totalDeviceCount', 'enabledDeviceCount', 'disabledDeviceCount']) {
      assert(Number.isInteger(stats && stats[field]), `${field} is not a number: ${JSON.stringify(stats)}`);
    }
    const statuses = [...live.values()];
    const enabled = statuses.filter((s) => s === 'enabled').length;
    const disabled = statuses.filter((s) => s === 'disabled').length;
    const got = JSON.stringify(stats);
    assert(stats.totalDeviceCount >= live.size, `totalDeviceCount < ${live.size} live devices of this run: ${got}`);
    assert(stats.enabledDeviceCount >= enabled, `enabledDeviceCount < ${enabled}: ${got}`);
    assert(stats.disabledDeviceCount >= disabled, `disabledDeviceCount < ${disabled}: ${got}`);
    assertEq(stats.enabledDeviceCount + stats.disabledDeviceCount, stats.totalDeviceCount, 'enabled + disabled');
  });

  // 12. Authorization: wrong key, and a policy without RegistryWrite.
  const existing = ['x509', 'ca', 'sas', 'mod'].find((n) => created[n]);
  const someDevice = () => need(existing || 'x509').deviceId;
  await check('bad-key-unauthorized', async () => {
    const bad = Registry.fromConnectionString(badCs);
    // Authentication comes before lookup, so even an unknown id must give 401.
    const deviceId = existing ? someDevice() : id('missing');
    await sdkError('get with a wrong key', () => bad.get(deviceId), errors.UnauthorizedError, 401);
  });

  await check('readonly-policy-can-read', async () => {
    assert(readOnlyCs, 'HERD_READONLY_CS is not set');
    const deviceId = someDevice();
    const d = await sdk('get', () => Registry.fromConnectionString(readOnlyCs).get(deviceId));
    assertEq(d.deviceId, deviceId, 'deviceId');
  });

  await check('readonly-policy-cannot-create', async () => {
    assert(readOnlyCs, 'HERD_READONLY_CS is not set');
    const deviceId = id('readonly');
    touched.add(deviceId);
    const ro = Registry.fromConnectionString(readOnlyCs);
    await sdkError('create', () => ro.create({ deviceId }), errors.UnauthorizedError, 401);
  });

  await h.deleteDevices(registry, touched, errors.DeviceNotFoundError);

}

h.run(main);

'use strict';
/*
 * Device-twin (service side) compatibility checks for a Herd hub, driven only through the public API of the
 * official service SDK (azure-iothub 1.16.6: Registry.getTwin/updateTwin/getModuleTwin/updateModuleTwin and the
 * Twin object's get/update).
 *
 * Environment:
 *   HERD_SERVICE_CS       iothubowner connection string (HostName=localhost;SharedAccessKeyName=...;SharedAccessKey=...)
 *   HERD_CALL_TIMEOUT_MS  optional: timeout of each SDK call in ms (default 10000)
 *   NODE_EXTRA_CA_CERTS   the hub's CA (the service SDK has no CA option; Node reads this at start-up)
 *
 * Output, one line per check: "ok <name>" or "not ok <name>: <details>"; lines starting with "#" are
 * comments; the last line is "N passed, M failed". Exit code 1 if any check failed.
 *
 * SDK facts this script relies on (dist/registry.js, dist/twin.js):
 * - Registry.getTwin/updateTwin/getModuleTwin/updateModuleTwin return a promise of {responseBody, httpResponse}
 *   when called without a callback; responseBody is a Twin built from the hub's JSON (lodash-merged into the
 *   object; a missing etag becomes '*', missing tags become {} and a missing properties.desired becomes {}).
 * - updateTwin/updateModuleTwin send PATCH with If-Match set to the quoted etag argument ('*' -> "*").
 * - Twin#update(patch) calls updateTwin(deviceId, patch, this.etag) (updateModuleTwin if the twin has a
 *   moduleId) and copies properties, tags and etag of the answer into the object; Twin#get() re-reads the twin
 *   and copies the same three fields. Without a callback both return a promise of {result, message}.
 * - The public API has no call for PUT /twins/{id} (replace), so it is not exercised here.
 */

const { Registry } = require('azure-iothub');
// azure-iothub 1.16.6 neither re-exports its error classes nor uses azure-iot-common: it throws the classes
// of its own dist/common-core/errors.js, so instanceof only works against that very module.
const errors = require('azure-iothub/dist/common-core/errors');

const h = require('./compat-harness')({ checkTimeoutFactor: 10, show: (v) => show(v) });
const { CALL_TIMEOUT_MS, SUFFIX, CheckFailure, check, describe, httpStatus, assert, assertEq, timed, sdk, sdkError } = h;
const id = (name) => `twin-${h.SUFFIX}-${name}`;


/** JSON with sorted object keys, for order-insensitive deep comparison. */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function assertDeepEq(actual, expected, what) {
  assert(canonical(actual) === canonical(expected), `${what}: expected ${canonical(expected)}, got ${canonical(actual)}`);
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isTimestamp = (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v));
const has = (obj, key) => isObject(obj) && Object.prototype.hasOwnProperty.call(obj, key);

/** The twin fields that matter here (a Twin object holds the Registry, which does not stringify well). */
function show(twin) {
  if (!twin || typeof twin !== 'object') return JSON.stringify(twin);
  const { deviceId, moduleId, etag, version, status, connectionState, tags, properties } = twin;
  return JSON.stringify({ deviceId, moduleId, etag, version, status, connectionState, tags, properties }).slice(0, 1500);
}

const desiredOf = (twin) => (twin && twin.properties && twin.properties.desired) || {};
const reportedOf = (twin) => twin && twin.properties && twin.properties.reported;

/** The hub sent an etag (the SDK's Twin substitutes '*' for a missing one). */
function assertEtag(twin, what) {
  const etag = twin && twin.etag;
  assert(typeof etag === 'string' && etag.length > 0 && etag !== '*', `${what}: no etag from the hub (${JSON.stringify(etag)})`);
}

function assertNumber(value, what) {
  assert(typeof value === 'number' && Number.isFinite(value), `${what}: expected a number, got ${JSON.stringify(value)}`);
}


/** A Twin object call (get/update): the promise resolves to {result, message}; returns result. */
async function twinCall(what, fn) {
  const outcome = await timed(what, fn);
  assert(outcome && typeof outcome === 'object' && 'result' in outcome, `${what}: unexpected result ${String(outcome)}`);
  return outcome.result;
}

/** {l1:{l2:{...{l<depth>: leaf}}}}: an object nesting `depth` levels below the object it is put in. */
function nested(depth, leaf) {
  let value = leaf;
  for (let level = depth; level >= 1; level--) value = { [`l${level}`]: value };
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// The checks, in order. Later checks reuse the twin state left by earlier ones.

async function main() {
  const serviceCs = process.env.HERD_SERVICE_CS;
  if (!serviceCs) {
    h.fail('environment', 'HERD_SERVICE_CS is not set');
    return;
  }
  console.log(`# device ids start with twin-${SUFFIX}-; per-call timeout ${CALL_TIMEOUT_MS} ms`);

  const registry = Registry.fromConnectionString(serviceCs);
  const touched = new Set(); // every device id we may have created, for the final clean-up
  const state = {}; // results of earlier checks that later checks build on
  const need = (name) => {
    assert(state[name] !== undefined, `needs '${name}' from an earlier check`);
    return state[name];
  };
  const createDevice = async (name) => {
    const deviceId = id(name);
    touched.add(deviceId);
    const d = await sdk(`create ${deviceId}`, () => registry.create({ deviceId }));
    assertEq(d && d.deviceId, deviceId, 'create: deviceId');
    return deviceId;
  };
  const getTwin = (deviceId, what = 'getTwin') => sdk(what, () => registry.getTwin(deviceId));
  const patchTwin = (deviceId, patch, etag, what = 'updateTwin') => sdk(what, () => registry.updateTwin(deviceId, patch, etag));

  // 1. A new device has a twin with identity fields, an etag, versions and metadata.
  await check('get-twin-of-new-device', async () => {
    const deviceId = await createDevice('main');
    state.deviceId = deviceId;
    const twin = await getTwin(deviceId);
    assertEq(twin.deviceId, deviceId, 'deviceId');
    assertEtag(twin, 'getTwin');
    assertNumber(twin.version, 'version');
    assertEq(twin.status, 'enabled', 'status');
    assertEq(twin.connectionState, 'Disconnected', 'connectionState');
    assert(isObject(twin.tags), `tags is not an object: ${show(twin)}`);
    const desired = desiredOf(twin);
    const reported = reportedOf(twin);
    assertNumber(desired.$version, 'properties.desired.$version');
    assert(isObject(reported), `properties.reported missing: ${show(twin)}`);
    assertNumber(reported.$version, 'properties.reported.$version');
    assert(isObject(desired.$metadata), `properties.desired.$metadata missing: ${show(twin)}`);
    assert(isTimestamp(desired.$metadata.$lastUpdated), `properties.desired.$metadata.$lastUpdated: ${JSON.stringify(desired.$metadata.$lastUpdated)}`);
    state.initial = twin;
  });

  // 2. PATCH with the current etag sets tags and desired properties and returns the full twin.
  await check('update-twin-with-etag', async () => {
    const before = need('initial');
    const patch = { tags: { building: '43', loc: { floor: 2 } }, properties: { desired: { rate: 17, cfg: { a: 1, b: 2 } } } };
    const twin = await patchTwin(before.deviceId, patch, before.etag);
    assertEq(twin.deviceId, before.deviceId, 'deviceId');
    assertEq(twin.tags && twin.tags.building, '43', 'tags.building');
    assertDeepEq(twin.tags && twin.tags.loc, { floor: 2 }, 'tags.loc');
    const desired = desiredOf(twin);
    assertEq(desired.rate, 17, 'desired.rate');
    assertDeepEq(desired.cfg, { a: 1, b: 2 }, 'desired.cfg');
    assertEq(desired.$version, before.properties.desired.$version + 1, 'desired.$version');
    const meta = desired.$metadata || {};
    assert(isObject(meta.rate), `desired.$metadata.rate missing: ${show(twin)}`);
    assert(isTimestamp(meta.rate.$lastUpdated), `desired.$metadata.rate.$lastUpdated: ${JSON.stringify(meta.rate.$lastUpdated)}`);
    assertEq(meta.rate.$lastUpdatedVersion, desired.$version, 'desired.$metadata.rate.$lastUpdatedVersion');
    assert(isObject(meta.cfg) && isObject(meta.cfg.a) && isTimestamp(meta.cfg.a.$lastUpdated),
      `desired.$metadata.cfg.a.$lastUpdated missing: ${JSON.stringify(meta.cfg)}`);
    assertEtag(twin, 'updateTwin');
    assert(twin.etag !== before.etag, `etag did not change (${before.etag})`);
    assertNumber(twin.version, 'version');
    assert(twin.version > before.version, `version did not increase: ${before.version} -> ${twin.version}`);
    const reread = await getTwin(before.deviceId, 'getTwin after update');
    assertEq(reread.etag, twin.etag, 'getTwin after update: etag');
    assertEq(desiredOf(reread).$version, desired.$version, 'getTwin after update: desired.$version');
    assertDeepEq(reread.tags, twin.tags, 'getTwin after update: tags');
    state.updated = twin;
  });

  // 3. Merge-patch semantics: objects merge recursively, null removes a member.
  await check('update-twin-merge-nested-null', async () => {
    const before = need('updated');
    const twin = await patchTwin(before.deviceId, { properties: { desired: { cfg: { b: null, c: 3 } } } }, '*');
    const desired = desiredOf(twin);
    assertDeepEq(desired.cfg, { a: 1, c: 3 }, 'desired.cfg');
    assertEq(desired.rate, 17, 'desired.rate (untouched)');
    assertEq(desired.$version, before.properties.desired.$version + 1, 'desired.$version');
    assertDeepEq(twin.tags, { building: '43', loc: { floor: 2 } }, 'tags (untouched)');
    const reread = await getTwin(before.deviceId, 'getTwin after merge');
    assertDeepEq(desiredOf(reread).cfg, { a: 1, c: 3 }, 'getTwin after merge: desired.cfg');
  });

  await check('update-twin-merge-top-level-null', async () => {
    const deviceId = need('deviceId');
    const twin = await patchTwin(deviceId, { tags: { building: null }, properties: { desired: { rate: null } } }, '*');
    const desired = desiredOf(twin);
    assert(!has(desired, 'rate'), `desired.rate was not removed: ${show(twin)}`);
    assertDeepEq(desired.cfg, { a: 1, c: 3 }, 'desired.cfg (untouched)');
    assert(!has(twin.tags, 'building'), `tags.building was not removed: ${show(twin)}`);
    assertDeepEq(twin.tags && twin.tags.loc, { floor: 2 }, 'tags.loc (untouched)');
    const reread = await getTwin(deviceId, 'getTwin after removal');
    assert(!has(desiredOf(reread), 'rate'), `getTwin: desired.rate still present: ${show(reread)}`);
    assert(!has(reread.tags, 'building'), `getTwin: tags.building still present: ${show(reread)}`);
  });

  // 4. A stale etag is refused with 412 and changes nothing.
  await check('update-twin-stale-etag', async () => {
    const stale = need('initial');
    need('updated'); // the etag of step 1 is only stale once step 2 changed the twin
    await sdkError('updateTwin with a stale etag', () => registry.updateTwin(stale.deviceId, { tags: { stale: true } }, stale.etag),
      errors.InvalidEtagError, 412);
    const reread = await getTwin(stale.deviceId, 'getTwin after refused update');
    assert(!has(reread.tags, 'stale'), `the refused patch was applied: ${show(reread)}`);
  });

  // 5. The Twin object: update() sends its own etag, get() refreshes it.
  await check('twin-object-update-and-get', async () => {
    const deviceId = need('deviceId');
    const first = await getTwin(deviceId, 'getTwin (first object)');
    const second = await getTwin(deviceId, 'getTwin (second object)');
    const third = await getTwin(deviceId, 'getTwin (third object)');
    assertEtag(first, 'getTwin');
    const oldEtag = first.etag;
    const result = await twinCall('twin.update', () => first.update({ tags: { x: 'y' } }));
    assert(result === first, 'twin.update did not resolve to the Twin object itself');
    assertEq(first.tags && first.tags.x, 'y', 'twin.update: tags.x');
    assertEtag(first, 'twin.update');
    assert(first.etag !== oldEtag, `twin.update: etag did not change (${oldEtag})`);
    await twinCall('twin.get', () => third.get());
    assertEq(third.tags && third.tags.x, 'y', 'twin.get refresh: tags.x');
    assertEq(third.etag, first.etag, 'twin.get refresh: etag');
    state.staleTwin = second;
    state.freshEtag = first.etag;
  });

  await check('twin-object-stale-etag', async () => {
    const stale = need('staleTwin');
    await sdkError('twin.update with a stale etag', () => stale.update({ tags: { x: 'z' } }), errors.InvalidEtagError, 412);
    // After a refresh the same object can update again.
    await twinCall('twin.get', () => stale.get());
    assertEq(stale.etag, need('freshEtag'), 'twin.get: etag');
    await twinCall('twin.update after refresh', () => stale.update({ tags: { x: 'z' } }));
    assertEq(stale.tags && stale.tags.x, 'z', 'twin.update after refresh: tags.x');
  });

  // 6. Arrays are values: a patch replaces them instead of merging.
  await check('update-twin-array-replaces', async () => {
    const deviceId = need('deviceId');
    const first = await patchTwin(deviceId, { properties: { desired: { list: [1, 2, 3] } } }, '*', 'updateTwin list=[1,2,3]');
    assertDeepEq(desiredOf(first).list, [1, 2, 3], 'desired.list after first patch');
    const second = await patchTwin(deviceId, { properties: { desired: { list: [4] } } }, '*', 'updateTwin list=[4]');
    assertDeepEq(desiredOf(second).list, [4], 'desired.list after second patch');
    const reread = await getTwin(deviceId, 'getTwin after array patch');
    assertDeepEq(desiredOf(reread).list, [4], 'getTwin: desired.list');
  });

  // 7. Module twins: /twins/{id}/modules/{mid}, same semantics, separate from the device twin.
  await check('module-twin-get', async () => {
    const deviceId = need('deviceId');
    const m = await sdk('addModule m1', () => registry.addModule({ deviceId, moduleId: 'm1' }));
    assertEq(m && m.moduleId, 'm1', 'addModule: moduleId');
    const twin = await sdk('getModuleTwin', () => registry.getModuleTwin(deviceId, 'm1'));
    assertEq(twin.deviceId, deviceId, 'deviceId');
    assertEq(twin.moduleId, 'm1', 'moduleId');
    assertEtag(twin, 'getModuleTwin');
    assertNumber(desiredOf(twin).$version, 'properties.desired.$version');
    assertNumber(reportedOf(twin) && reportedOf(twin).$version, 'properties.reported.$version');
    state.moduleTwin = twin;
  });

  await check('module-twin-update', async () => {
    const before = need('moduleTwin');
    const twin = await sdk('updateModuleTwin', () =>
      registry.updateModuleTwin(before.deviceId, 'm1', { properties: { desired: { k: 1 } } }, '*'));
    assertEq(twin.moduleId, 'm1', 'moduleId');
    assertEq(desiredOf(twin).k, 1, 'desired.k');
    assertEq(desiredOf(twin).$version, desiredOf(before).$version + 1, 'desired.$version');
    assertEtag(twin, 'updateModuleTwin');
    assert(twin.etag !== before.etag, `etag did not change (${before.etag})`);
    const reread = await sdk('getModuleTwin after update', () => registry.getModuleTwin(before.deviceId, 'm1'));
    assertEq(desiredOf(reread).k, 1, 'getModuleTwin: desired.k');
    const deviceTwin = await getTwin(before.deviceId, 'getTwin of the device');
    assert(!has(desiredOf(deviceTwin), 'k'), `the module patch reached the device twin: ${show(deviceTwin)}`);
    state.moduleUpdated = true;
  });

  await check('module-twin-stale-etag', async () => {
    const stale = need('moduleTwin');
    need('moduleUpdated');
    await sdkError('updateModuleTwin with a stale etag',
      () => registry.updateModuleTwin(stale.deviceId, 'm1', { properties: { desired: { k: 9 } } }, stale.etag),
      errors.InvalidEtagError, 412);
  });

  await check('module-twin-object-update', async () => {
    const deviceId = need('deviceId');
    need('moduleTwin');
    const twin = await sdk('getModuleTwin', () => registry.getModuleTwin(deviceId, 'm1'));
    // Twin#update patches the module twin only because the hub's JSON carries moduleId.
    assertEq(twin.moduleId, 'm1', 'moduleId');
    await twinCall('twin.update (module)', () => twin.update({ properties: { desired: { k2: 2 } } }));
    assertEq(desiredOf(twin).k2, 2, 'twin.update: desired.k2');
    const deviceTwin = await getTwin(deviceId, 'getTwin of the device');
    assert(!has(desiredOf(deviceTwin), 'k2'), `the module patch reached the device twin: ${show(deviceTwin)}`);
  });

  await check('module-twin-unknown-module', async () => {
    const deviceId = need('deviceId');
    // A 404 whose code is not DeviceNotFound (ModuleNotFound) becomes a plain Error('Not found') in Node.
    await sdkError('getModuleTwin', () => registry.getModuleTwin(deviceId, 'no-such-module'), null, 404);
  });

  // 8. Unknown devices.
  await check('get-twin-unknown-device', async () => {
    await sdkError('getTwin', () => registry.getTwin(id('missing')), errors.DeviceNotFoundError, 404);
  });

  await check('update-twin-unknown-device', async () => {
    await sdkError('updateTwin', () => registry.updateTwin(id('missing'), { tags: { a: 1 } }, '*'), errors.DeviceNotFoundError, 404);
  });

  // 9. Invalid patches are refused with 400 as a whole.
  const badPatch = async (what, patch) => {
    const deviceId = need('deviceId');
    await sdkError(`updateTwin ${what}`, () => registry.updateTwin(deviceId, patch, '*'), errors.ArgumentError, 400);
  };
  await check('update-twin-rejects-dollar-key', async () => {
    need('deviceId');
    state.beforeBad = await getTwin(state.deviceId, 'getTwin before bad patches');
    await badPatch("with desired key '$bad'", { properties: { desired: { $bad: 1 } } });
    await badPatch("with nested desired key 'x$y'", { properties: { desired: { ok: { x$y: 1 } } } });
  });

  await check('update-twin-rejects-dot-key', async () => {
    await badPatch("with desired key 'a.b'", { properties: { desired: { 'a.b': 1 } } });
  });

  await check('update-twin-rejects-too-deep', async () => {
    // 12 nested objects below properties.desired: deeper than the limit of 10 however the levels are counted.
    await badPatch('nesting 12 levels deep', { properties: { desired: nested(12, 'deep') } });
  });

  await check('update-twin-rejected-patch-not-applied', async () => {
    const before = need('beforeBad');
    const after = await getTwin(before.deviceId, 'getTwin after bad patches');
    assertEq(after.etag, before.etag, 'etag');
    assertEq(desiredOf(after).$version, desiredOf(before).$version, 'desired.$version');
    for (const key of ['$bad', 'ok', 'a.b', 'a', 'l1']) {
      assert(!has(desiredOf(after), key), `desired.${key} present after a refused patch: ${show(after)}`);
    }
  });

  // 10. The twin lives and dies with the device identity.
  await check('twin-deleted-with-device', async () => {
    const deviceId = await createDevice('life');
    await patchTwin(deviceId, { tags: { old: true }, properties: { desired: { old: true } } }, '*');
    await sdk('delete', () => registry.delete(deviceId));
    await sdkError('getTwin after delete', () => registry.getTwin(deviceId), errors.DeviceNotFoundError, 404);
    await createDevice('life');
    const twin = await getTwin(deviceId, 'getTwin after re-create');
    assert(!has(twin.tags, 'old'), `tags survived delete and re-create: ${show(twin)}`);
    assert(!has(desiredOf(twin), 'old'), `desired properties survived delete and re-create: ${show(twin)}`);
  });

  await h.deleteDevices(registry, touched, errors.DeviceNotFoundError);

}

h.run(main);

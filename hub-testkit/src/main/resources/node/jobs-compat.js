'use strict';
/*
 * Jobs compatibility checks with the official service SDK (azure-iothub 1.16.6, JobClient) against a Herd hub:
 * scheduleTwinUpdate, scheduleDeviceMethod to an official device SDK client (azure-iot-device 1.18.4, Mqtt,
 * onDeviceMethod) and an offline device, getJob, cancelJob, createQuery (jobs) and per-device outcomes read
 * with Registry.createQuery over devices.jobs.
 *
 * Environment:
 *   HERD_SERVICE_CS          iothubowner connection string
 *   HERD_DEVICE_CS_ANSWERS   a device that answers 'reboot' (GatewayHostName=host:port)
 *   HERD_DEVICE_CS_OFFLINE   a device that never connects
 *   HERD_CA_FILE, NODE_EXTRA_CA_CERTS  the hub's CA
 */

const fs = require('fs');
const { Client: DeviceClient } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');
const { JobClient, Registry } = require('azure-iothub');
const errors = require('azure-iothub/dist/common-core/errors');

const h = require('./compat-harness')({ checkTimeoutFactor: 10 });
const { SUFFIX, check, assert, assertEq, timed, sdk, sdkError } = h;

const ca = fs.readFileSync(process.env.HERD_CA_FILE, 'utf8');
const jobs = JobClient.fromConnectionString(process.env.HERD_SERVICE_CS);
const registry = Registry.fromConnectionString(process.env.HERD_SERVICE_CS);
const idOf = (cs) => /DeviceId=([^;]+)/.exec(cs)[1];
const answering = idOf(process.env.HERD_DEVICE_CS_ANSWERS);
const offline = idOf(process.env.HERD_DEVICE_CS_OFFLINE);
const group = `jobs-${SUFFIX}`;

async function until(what, fn, ms = 30000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function finished(jobId) {
  return until(`job ${jobId} ends`, async () => {
    const { jobStatus } = await timed(`getJob ${jobId}`, () => jobs.getJob(jobId));
    return ['completed', 'failed', 'cancelled'].includes(jobStatus.status) ? jobStatus : null;
  });
}

h.run(async () => {
  const device = DeviceClient.fromConnectionString(process.env.HERD_DEVICE_CS_ANSWERS, Mqtt);
  device.setOptions({ ca });
  device.onDeviceMethod('reboot', (req, res) => res.send(200, { rebooting: true, delay: req.payload.delay }, () => {}));
  await timed('device open', () => device.open());

  await check('tag the two devices into this run\'s group', async () => {
    for (const id of [answering, offline]) {
      await sdk(`tag ${id}`, () => registry.updateTwin(id, { tags: { group } }, '*'));
    }
  });

  const twinJob = `twin-${SUFFIX}`;
  await check('scheduleTwinUpdate runs now and completes for every selected device', async () => {
    const { jobStatus } = await timed('scheduleTwinUpdate', () =>
      jobs.scheduleTwinUpdate(twinJob, `tags.group = '${group}'`, { etag: '*', properties: { desired: { fw: '9.1' } } }),
    );
    assertEq(jobStatus.jobId, twinJob, 'jobId');
    assertEq(jobStatus.type, 'scheduleUpdateTwin', 'type');
    const done = await finished(twinJob);
    assertEq(done.status, 'completed', 'status');
    assertEq(done.deviceJobStatistics.deviceCount, 2, 'deviceCount');
    assertEq(done.deviceJobStatistics.succeededCount, 2, 'succeededCount');
    const twin = await sdk('getTwin', () => registry.getTwin(offline));
    assertEq(twin.properties.desired.fw, '9.1', 'desired.fw of an offline device');
  });

  const methodJob = `method-${SUFFIX}`;
  await check('scheduleDeviceMethod reaches the connected device and fails the offline one', async () => {
    await timed('scheduleDeviceMethod', () =>
      jobs.scheduleDeviceMethod(methodJob, `tags.group = '${group}'`, { methodName: 'reboot', payload: { delay: 2 }, responseTimeoutInSeconds: 10 }),
    );
    const done = await finished(methodJob);
    assertEq(done.status, 'completed', 'status');
    assertEq(done.deviceJobStatistics.succeededCount, 1, 'succeededCount');
    assertEq(done.deviceJobStatistics.failedCount, 1, 'failedCount');
  });

  await check('devices.jobs rows carry the method response and the offline error', async () => {
    const query = registry.createQuery(`SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '${methodJob}'`, 10);
    const { result } = await timed('query devices.jobs', () => query.next());
    assertEq(result.length, 2, 'rows');
    const ok = result.find((r) => r.deviceId === answering);
    const off = result.find((r) => r.deviceId === offline);
    assert(ok && off, JSON.stringify(result));
    assertEq(ok.status, 'completed', 'answering status');
    assertEq(ok.outcome.deviceMethodResponse.status, 200, 'method status');
    assertEq(ok.outcome.deviceMethodResponse.payload.delay, 2, 'method payload');
    assertEq(off.status, 'failed', 'offline status');
    assertEq(off.error.code, 'DeviceNotOnline', 'offline error');
  });

  const later = `later-${SUFFIX}`;
  await check('a job scheduled for later can be cancelled', async () => {
    const start = new Date(Date.now() + 3600 * 1000);
    const { jobStatus } = await timed('scheduleTwinUpdate later', () =>
      jobs.scheduleTwinUpdate(later, `tags.group = '${group}'`, { etag: '*', properties: { desired: { never: true } } }, start, 600),
    );
    assertEq(jobStatus.status, 'scheduled', 'status before the start');
    const { jobStatus: cancelled } = await timed('cancelJob', () => jobs.cancelJob(later));
    assertEq(cancelled.status, 'cancelled', 'status after cancel');
    const { jobStatus: read } = await timed('getJob', () => jobs.getJob(later));
    assertEq(read.status, 'cancelled', 'status read back');
  });

  await check('createQuery lists jobs by type and status, in pages', async () => {
    const query = jobs.createQuery('scheduleUpdateTwin', 'completed', 1);
    const seen = [];
    while (query.hasMoreResults) {
      const { result } = await timed('jobs query next', () => query.next());
      for (const j of result) {
        assertEq(j.type, 'scheduleUpdateTwin', 'type');
        assertEq(j.status, 'completed', 'status');
        seen.push(j.jobId);
      }
      assert(seen.length < 1000, 'too many pages');
    }
    assert(seen.includes(twinJob), `${twinJob} in ${JSON.stringify(seen)}`);
    const cancelled = jobs.createQuery(undefined, 'cancelled');
    const { result } = await timed('cancelled jobs', () => cancelled.next());
    assert(result.some((j) => j.jobId === later), JSON.stringify(result));
  });

  await check('an unknown job and a duplicate id fail as IoT Hub fails them', async () => {
    await sdkError('getJob unknown', () => jobs.getJob(`nope-${SUFFIX}`), Error, 404);
    await sdkError(
      'scheduleTwinUpdate duplicate',
      () => jobs.scheduleTwinUpdate(twinJob, `tags.group = '${group}'`, { etag: '*', tags: { x: 1 } }),
      errors.DeviceAlreadyExistsError,
      409,
    );
  });

  await timed('device close', () => device.close());
});

'use strict';
/*
 * Import and export job checks with the official service SDK (azure-iothub 1.16.6): Registry.importDevicesFromBlob,
 * exportDevicesToBlob, getJob, listJobs and cancelJob, with file:// containers in the hub's jobs directory (a Herd
 * extension standing in for Azure blob SAS URLs), and an unknown job as an SDK error.
 *
 * Environment: HERD_SERVICE_CS (iothubowner), HERD_JOBS_DIR (the hub's jobs directory), NODE_EXTRA_CA_CERTS.
 */

const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');
const { Registry } = require('azure-iothub');
const errors = require('azure-iothub/dist/common-core/errors');

const h = require('./compat-harness')({ checkTimeoutFactor: 10 });
const { SUFFIX, check, assert, assertEq, timed, sdk, sdkError } = h;

const registry = Registry.fromConnectionString(process.env.HERD_SERVICE_CS);
const dir = path.join(process.env.HERD_JOBS_DIR, `compat-${SUFFIX}`);
const container = (name) => pathToFileURL(path.join(dir, name)).href;
const ids = [0, 1, 2].map((i) => `bulk-${SUFFIX}-${i}`);
const jobIds = [];

/** Polls getJob until the job has ended; returns its last JobProperties. */
async function ended(jobId) {
  for (let i = 0; i < 200; i++) {
    const job = await timed('getJob', () => registry.getJob(jobId));
    if (['completed', 'failed', 'cancelled'].includes(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new h.CheckFailure(`job ${jobId} did not end`);
}

h.run(async () => {
  await check('importDevicesFromBlob imports devices.txt and reports a bad line', async () => {
    fs.mkdirSync(path.join(dir, 'in'), { recursive: true });
    const lines = ids.map((id, n) => JSON.stringify({ id, importMode: 'create', tags: { n } }));
    lines.push(JSON.stringify({ id: ids[0], importMode: 'create' }));
    fs.writeFileSync(path.join(dir, 'in', 'devices.txt'), `${lines.join('\n')}\n`);
    const job = await timed('importDevicesFromBlob', () => registry.importDevicesFromBlob(container('in'), container('out')));
    assertEq(job.type, 'import', 'type');
    assert(typeof job.jobId === 'string' && job.jobId.length > 0, `jobId in ${JSON.stringify(job)}`);
    jobIds.push(job.jobId);
    const done = await ended(job.jobId);
    assertEq(done.status, 'completed', 'status');
    assertEq(done.progress, 100, 'progress');
    assert(/1 of 4 devices failed/.test(done.failureReason), `failureReason: ${done.failureReason}`);
    const log = fs.readFileSync(path.join(dir, 'out', 'importErrors.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assertEq(log.length, 1, 'error lines');
    assertEq(log[0].line, 4, 'line');
    assertEq(log[0].errorCode, 'DeviceAlreadyExists', 'errorCode');
    const twin = await sdk('getTwin', () => registry.getTwin(ids[2]));
    assertEq(twin.tags.n, 2, 'tags.n');
  });

  await check('exportDevicesToBlob writes every device with its keys and tags', async () => {
    const job = await timed('exportDevicesToBlob', () => registry.exportDevicesToBlob(container('export'), false));
    assertEq(job.type, 'export', 'type');
    assertEq(job.excludeKeysInExport, false, 'excludeKeysInExport');
    jobIds.push(job.jobId);
    const done = await ended(job.jobId);
    assertEq(done.status, 'completed', 'status');
    const lines = fs.readFileSync(path.join(dir, 'export', 'devices.txt'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const ours = lines.filter((l) => ids.includes(l.id));
    assertEq(ours.length, 3, 'our devices');
    for (const line of ours) {
      const device = await sdk(`get ${line.id}`, () => registry.get(line.id));
      assertEq(line.authentication.symmetricKey.primaryKey, device.authentication.symmetricKey.primaryKey, 'primaryKey');
      assertEq(line.tags.n, ids.indexOf(line.id), 'tags.n');
    }
  });

  await check('listJobs lists the jobs and cancelJob leaves an ended job as it was', async () => {
    const listed = await sdk('listJobs', () => registry.listJobs());
    assert(Array.isArray(listed), `listJobs returned ${JSON.stringify(listed)}`);
    for (const id of jobIds) assert(listed.some((j) => j.jobId === id), `job ${id} missing`);
    const job = await timed('cancelJob', () => registry.cancelJob(jobIds[0]));
    assertEq(job.status, 'completed', 'status');
  });

  await check('an unknown job fails with HTTP 404', async () => {
    const err = await sdkError('getJob', () => registry.getJob('no-such-job'), Error, 404);
    assert(/JobNotFound/.test(`${err.message} ${err.responseBody}`), `error: ${err.message}`);
  });

  await check('identity-based storage is refused with ArgumentError', async () => {
    await sdkError('exportDevicesToBlobByIdentity', () => registry.exportDevicesToBlobByIdentity(container('x'), true), errors.ArgumentError, 400);
  });

  await h.deleteDevices(registry, ids, errors.DeviceNotFoundError);
});

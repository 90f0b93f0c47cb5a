'use strict';
/*
 * The check runner the compatibility scripts share: one line per check ("ok <name>" or
 * "not ok <name>: <details>"), per-call timeouts, errors thrown inside SDK callbacks pinned to the
 * check that caused them, and a last line "N passed, M failed" with exit code 1 if any failed.
 *
 *   const h = require('./compat-harness')({ checkTimeoutFactor: 10, show: JSON.stringify });
 *   await h.check('name', async () => { ... });
 *   h.run(main);
 */

const crypto = require('crypto');
const https = require('https');

module.exports = function harness(options = {}) {
  const CALL_TIMEOUT_MS = Number.parseInt(process.env.HERD_CALL_TIMEOUT_MS || '', 10) || 10000;
  const checkTimeoutFactor = options.checkTimeoutFactor || 8;
  const show = options.show || ((v) => String(JSON.stringify(v)).slice(0, 1500));
  const SUFFIX = crypto.randomBytes(4).toString('hex');

  let passed = 0;
  let failed = 0;
  let failCurrent = null; // rejects the running check; used for errors thrown inside SDK callbacks

  /** A failed expectation of the script, as opposed to an error raised by the SDK. */
  class CheckFailure extends Error {}
  class CallTimeout extends CheckFailure {}

  const oneLine = (s) => s.replace(/\s*\n\s*/g, ' | ');
  const httpStatus = (err) => (err && err.response && err.response.statusCode) || undefined;

  function describe(err) {
    if (err instanceof CheckFailure) return oneLine(err.message);
    if (!(err instanceof Error)) return oneLine(String(err));
    // Node 20 reports a refused dual-stack connect as an AggregateError with an empty message.
    const inner = Array.isArray(err.errors) && err.errors.length ? ` [${err.errors.map((e) => e.message).join('; ')}]` : '';
    const status = httpStatus(err) ? ` (HTTP ${httpStatus(err)})` : '';
    const code = err.code ? ` ${err.code}` : '';
    const body = err.responseBody ? ` body=${String(err.responseBody).slice(0, 300)}` : '';
    return oneLine(`${err.name || err.constructor.name}${status}${code}: ${err.message}${inner}${body}`);
  }

  async function check(name, body) {
    try {
      await new Promise((resolve, reject) => {
        failCurrent = reject;
        // A backstop for a check that awaits something without a per-call timeout.
        const guard = setTimeout(() => reject(new CheckFailure('check timed out')), CALL_TIMEOUT_MS * checkTimeoutFactor);
        Promise.resolve()
          .then(body)
          .then(resolve, reject)
          .finally(() => clearTimeout(guard));
      });
      passed++;
      console.log(`ok ${name}`);
    } catch (err) {
      failed++;
      console.log(`not ok ${name}: ${describe(err)}`);
    } finally {
      failCurrent = null;
    }
  }

  // The SDKs parse responses inside Node event callbacks; a throw there would otherwise kill the
  // process instead of failing the check that caused it.
  process.on('uncaughtException', (err) => {
    if (failCurrent) failCurrent(err);
    else process.stderr.write(`uncaught exception outside a check: ${describe(err)}\n`);
  });
  // Nobody reads our results any more (e.g. the parent died): stop instead of failing on every write.
  process.stdout.on('error', () => process.exit(1));

  function assert(condition, message) {
    if (!condition) throw new CheckFailure(message);
  }

  function assertEq(actual, expected, what) {
    assert(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }

  /** Runs one SDK call (returning a promise) with a timeout; returns what the promise resolved to. */
  async function timed(what, fn) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new CallTimeout(`${what} timed out after ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
    });
    try {
      return await Promise.race([Promise.resolve().then(fn), timeout]);
    } catch (err) {
      if (err instanceof CallTimeout) throw err;
      if (err instanceof Error) err.message = `${what}: ${err.message}`;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A service SDK call: the promise resolves to {responseBody, httpResponse}; returns responseBody. */
  async function sdk(what, fn) {
    const outcome = await timed(what, fn);
    assert(outcome && typeof outcome === 'object' && 'responseBody' in outcome, `${what}: unexpected result ${String(outcome)}`);
    return outcome.responseBody;
  }

  /** Runs an SDK call that must fail with errorClass (and, if given, that HTTP status); returns the error. */
  async function sdkError(what, fn, errorClass, status) {
    let outcome;
    try {
      outcome = await timed(what, fn);
    } catch (err) {
      if (err instanceof CallTimeout) throw err;
      if (err instanceof CheckFailure) throw err;
      if (errorClass && !(err instanceof errorClass)) {
        throw new CheckFailure(`expected ${errorClass.name}, got ${describe(err)}`);
      }
      if (status && httpStatus(err) !== status) {
        throw new CheckFailure(`expected HTTP ${status}, got ${describe(err)}`);
      }
      return err;
    }
    const got = outcome && (outcome.responseBody || outcome.result);
    throw new CheckFailure(`${what}: expected ${errorClass ? errorClass.name : 'an error'}, but it succeeded: ${show(got)}`);
  }

  /** Records a failed check that did not run, e.g. for missing input. */
  function fail(name, message) {
    failed++;
    console.log(`not ok ${name}: ${oneLine(message)}`);
  }

  /**
   * Best-effort clean-up, not a check: a hub that failed above may also fail here. Deleting a
   * device deletes its modules and twins too.
   */
  async function deleteDevices(registry, deviceIds, notFoundClass) {
    const deletions = await Promise.allSettled(
      [...deviceIds].map((deviceId) => sdk(`delete ${deviceId}`, () => registry.delete(deviceId))),
    );
    const removed = deletions.filter((d) => d.status === 'fulfilled').length;
    const gone = deletions.filter((d) => d.status === 'rejected' && d.reason instanceof notFoundClass).length;
    const left = deletions.length - removed - gone;
    console.log(`# clean-up: deleted ${removed}, already gone ${gone}, could not delete ${left}`);
  }

  function finish() {
    // Exit explicitly: the SDK's keep-alive agent and calls abandoned on timeout would keep Node running.
    process.stdout.write(`${passed} passed, ${failed} failed\n`, () => process.exit(failed > 0 ? 1 : 0));
  }

  /** Runs the script's main, counting a crash of the script itself as a failed check. */
  function run(main) {
    main().then(finish, (err) => {
      failed++;
      console.log(`not ok harness: ${describe(err)}`);
      finish();
    });
  }

  /**
   * Reads the hub's live events stream (GET /messages/events on localhost:443, replayed from the
   * start) for one device until `predicate(text)` holds; resolves with the text read.
   */
  function readEvents(deviceId, serviceToken, predicate) {
    return new Promise((resolve, reject) => {
      const req = https.get(
        {
          host: 'localhost',
          port: 443,
          path: `/messages/events?api-version=2021-04-12&deviceId=${encodeURIComponent(deviceId)}`,
          headers: { Authorization: serviceToken, 'Last-Event-ID': '0' },
        },
        (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`GET /messages/events answered ${res.statusCode}`));
            res.resume();
            return;
          }
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => {
            text += chunk;
            if (predicate(text)) {
              resolve(text);
              req.destroy();
            }
          });
          res.on('error', () => {});
        },
      );
      req.on('error', (err) => {
        if (err.code !== 'ECONNRESET') reject(err);
      });
    });
  }

  return {
    readEvents,
    CALL_TIMEOUT_MS,
    SUFFIX,
    CheckFailure,
    CallTimeout,
    check,
    describe,
    httpStatus,
    assert,
    assertEq,
    timed,
    sdk,
    sdkError,
    fail,
    deleteDevices,
    run,
  };
};

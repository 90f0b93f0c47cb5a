'use strict';
/*
 * Query compatibility checks with the official service SDK (azure-iothub 1.16.6): Registry.createQuery with page
 * sizes, Query.nextAsTwin and Query.next, hasMoreResults, and a query error surfacing as an SDK error.
 *
 * Environment: HERD_SERVICE_CS (iothubowner), NODE_EXTRA_CA_CERTS (the hub's CA).
 */

const { Registry } = require('azure-iothub');
const errors = require('azure-iothub/dist/common-core/errors');

const h = require('./compat-harness')({ checkTimeoutFactor: 10 });
const { SUFFIX, check, assert, assertEq, timed, sdk, sdkError } = h;

const registry = Registry.fromConnectionString(process.env.HERD_SERVICE_CS);
const site = `site-${SUFFIX}`;
const ids = [];

h.run(async () => {
  await check('create 7 devices tagged with this run\'s site', async () => {
    for (let i = 0; i < 7; i++) {
      const id = `query-${SUFFIX}-${i}`;
      ids.push(id);
      await sdk(`create ${id}`, () => registry.create({ deviceId: id }));
      await sdk(`tag ${id}`, () => registry.updateTwin(id, { tags: { site, n: i } }, '*'));
    }
  });

  await check('createQuery pages with nextAsTwin until hasMoreResults is false', async () => {
    const query = registry.createQuery(`SELECT * FROM devices WHERE tags.site = '${site}'`, 3);
    const seen = [];
    let pages = 0;
    while (query.hasMoreResults) {
      const { result } = await timed('nextAsTwin', () => query.nextAsTwin());
      pages++;
      for (const twin of result) {
        assert(typeof twin.deviceId === 'string', `a twin without deviceId: ${JSON.stringify(twin)}`);
        assertEq(twin.tags.site, site, 'tags.site');
        seen.push(twin.deviceId);
      }
      assert(pages <= 5, 'too many pages');
    }
    assertEq(pages, 3, 'pages of 3 for 7 twins');
    assertEq(JSON.stringify(seen.slice().sort()), JSON.stringify(ids.slice().sort()), 'every twin exactly once');
  });

  await check('next returns raw rows of a projection', async () => {
    const query = registry.createQuery(`SELECT deviceId, tags.n AS n FROM devices WHERE tags.site = '${site}' AND tags.n >= 5`);
    const { result } = await timed('next', () => query.next());
    assertEq(result.length, 2, 'rows');
    assert(result.every((r) => typeof r.n === 'number' && r.deviceId.startsWith('query-')), JSON.stringify(result));
    assertEq(query.hasMoreResults, false, 'hasMoreResults after the only page');
  });

  await check('GROUP BY counts come as raw rows', async () => {
    const query = registry.createQuery(`SELECT tags.site AS s, COUNT() AS total FROM devices WHERE tags.site = '${site}' GROUP BY tags.site`);
    const { result } = await timed('next', () => query.next());
    assertEq(result.length, 1, 'groups');
    assertEq(result[0].total, 7, 'total');
  });

  await check('a bad query fails with ArgumentError (HTTP 400)', async () => {
    const query = registry.createQuery('SELECT * FROM devices WHERE');
    await sdkError('bad query', () => query.next(), errors.ArgumentError, 400);
  });

  await h.deleteDevices(registry, ids, errors.DeviceNotFoundError);
});

'use strict';
/*
 * Device-side HTTPS compatibility checks for a Herd hub through the official device SDK (azure-iot-device 1.18.4
 * with azure-iot-device-http 1.14.4, transport Http), unmodified: sendEvent with properties, sendEventBatch,
 * cloud-to-device receive by polling with complete and reject. The HTTP transport always dials port 443 of the
 * HostName (wire §8.1).
 *
 * Environment:
 *   HERD_DEVICE_CS_HTTP    device connection string (SAS key)
 *   HERD_SERVICE_TOKEN     a service SAS token, for reading GET /messages/events
 *   HERD_CA_FILE           the hub's CA certificate (PEM), given to the device client with setOptions({ca})
 *
 * The test that runs this script queues two cloud-to-device messages for the device first ("keep" and "drop").
 */

const fs = require('fs');
const { Client, Message } = require('azure-iot-device');
const { Http } = require('azure-iot-device-http');

const h = require('./compat-harness')({ checkTimeoutFactor: 6 });
const { check, assert, assertEq, timed } = h;

const cs = process.env.HERD_DEVICE_CS_HTTP;
const deviceId = /DeviceId=([^;]+)/.exec(cs)[1];
const ca = fs.readFileSync(process.env.HERD_CA_FILE, 'utf8');

h.run(async () => {
  const client = Client.fromConnectionString(cs, Http);
  client.setOptions({ ca, http: { receivePolicy: { interval: 1 } } });
  await timed('open', () => client.open());

  await check('sendEvent with application and system properties', async () => {
    const m = new Message(JSON.stringify({ temp: 21.5, tag: 'http-m1' }));
    m.messageId = 'http-m1';
    m.properties.add('unit', 'celsius');
    await timed('sendEvent', () => client.sendEvent(m));
    const text = await timed('events stream', () =>
      h.readEvents(deviceId, process.env.HERD_SERVICE_TOKEN, (t) => t.includes('http-m1') && t.includes('celsius')),
    );
    assert(text.includes('"unit":"celsius"') || text.includes('celsius'), text.slice(0, 500));
  });

  await check('sendEventBatch delivers every message', async () => {
    const batch = [0, 1, 2].map((i) => {
      const m = new Message(`batch-${i}`);
      m.properties.add('n', String(i));
      return m;
    });
    await timed('sendEventBatch', () => client.sendEventBatch(batch));
    await timed('events stream', () => h.readEvents(deviceId, process.env.HERD_SERVICE_TOKEN, (t) => t.includes('batch-2')));
  });

  await check('cloud-to-device messages are received by polling, then completed or rejected', async () => {
    const seen = [];
    await timed(
      'receive two messages',
      () =>
        new Promise((resolve, reject) => {
          client.on('message', (msg) => {
            const data = msg.data.toString();
            seen.push({ data, id: msg.messageId });
            const settle = data.includes('drop') ? client.reject.bind(client) : client.complete.bind(client);
            settle(msg, (err) => {
              if (err) reject(err);
              else if (seen.length === 2) resolve();
            });
          });
        }),
    );
    assertEq(seen.map((s) => s.data).sort().join(','), 'drop,keep', 'message bodies');
    assert(seen.every((s) => typeof s.id === 'string' && s.id.length > 0), JSON.stringify(seen));
  });

  await timed('close', () => client.close());
});

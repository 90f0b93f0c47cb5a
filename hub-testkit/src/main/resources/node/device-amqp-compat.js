'use strict';
/*
 * Device-side AMQP compatibility checks for a Herd hub, driven only through the official device SDK
 * (azure-iot-device 1.18.4 with azure-iot-device-amqp 1.14.4, transports Amqp and AmqpWs) and, for the
 * service side of twins, azure-iothub 1.16.6.
 *
 * Environment:
 *   HERD_DEVICE_CS_AMQP    device connection string for the Amqp transport (with GatewayHostName=host:port)
 *   HERD_DEVICE_CS_AMQPWS  device connection string for the AmqpWs transport (WebSocket on port 443); optional
 *   HERD_SERVICE_CS        iothubowner connection string
 *   HERD_SERVICE_TOKEN     a service SAS token, for reading GET /messages/events
 *   HERD_CA_FILE           the hub's CA certificate (PEM), given to the device client with setOptions({ca})
 *   NODE_EXTRA_CA_CERTS    the same CA, for the service SDK and https
 *
 * Output: one line per check, "ok <name>" or "not ok <name>: <details>", then "N passed, M failed".
 */

const fs = require('fs');
const { Client, Message } = require('azure-iot-device');
const { Amqp, AmqpWs } = require('azure-iot-device-amqp');

const h = require('./compat-harness')({ checkTimeoutFactor: 6 });
const { CALL_TIMEOUT_MS, check, assert, assertEq, timed } = h;

const ca = fs.readFileSync(process.env.HERD_CA_FILE, 'utf8');

const deviceIdOf = (cs) => /DeviceId=([^;]+)/.exec(cs)[1];

async function exercise(label, transport, cs) {
  const deviceId = deviceIdOf(cs);
  const client = Client.fromConnectionString(cs, transport);
  client.setOptions({ ca });

  await check(`${label}: open`, async () => {
    await timed('open', () => client.open());
  });

  await check(`${label}: sendEvent reaches the events stream with its properties`, async () => {
    const msg = new Message(JSON.stringify({ temperature: 21.5, label }));
    msg.messageId = `${label}-m1`;
    msg.correlationId = '3c0d1b1e-5a4c-4f1e-9b2a-0a1b2c3d4e5f';
    msg.contentType = 'application/json';
    msg.contentEncoding = 'utf-8';
    msg.properties.add('kind', 'compat test');
    await timed('sendEvent', () => client.sendEvent(msg));
    const text = await timed('events stream', () => h.readEvents(deviceId, process.env.HERD_SERVICE_TOKEN, (t) => t.includes(`${label}-m1`)));
    const data = text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
    const event = data.find((e) => e.systemProperties['message-id'] === `${label}-m1`);
    assert(event, `no event with message-id ${label}-m1 in ${text.slice(0, 500)}`);
    assertEq(event.properties.kind, 'compat test', 'application property');
    assertEq(event.systemProperties['content-type'], 'application/json', 'content type');
    assertEq(event.systemProperties['correlation-id'], '3c0d1b1e-5a4c-4f1e-9b2a-0a1b2c3d4e5f', 'correlation id (sent as AMQP uuid)');
    assertEq(JSON.parse(event.body).temperature, 21.5, 'body');
  });

  await check(`${label}: close`, async () => {
    await timed('close', () => client.close());
  });
}

h.run(async () => {
  console.log(`# call timeout ${CALL_TIMEOUT_MS} ms`);
  await exercise('amqp', Amqp, process.env.HERD_DEVICE_CS_AMQP);
  if (process.env.HERD_DEVICE_CS_AMQPWS) {
    await exercise('amqp-ws', AmqpWs, process.env.HERD_DEVICE_CS_AMQPWS);
  }
});

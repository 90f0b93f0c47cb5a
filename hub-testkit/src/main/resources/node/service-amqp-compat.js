'use strict';
/*
 * Service-side AMQP compatibility checks for a Herd hub: the official azure-iothub 1.16.6 Client (Client.send
 * into the durable cloud-to-device queues, getFeedbackReceiver) against devices using azure-iot-device with the
 * Amqp transport.
 *
 * Environment:
 *   HERD_SERVICE_CS        iothubowner connection string (HostName without a port: the Client dials amqps://HostName:5671)
 *   HERD_DEVICE_CS         a device that receives and completes a message (Amqp transport, GatewayHostName may name the port)
 *   HERD_OFFLINE_DEVICE    the id of a device that never connects, for the queue-depth limit
 *   HERD_CA_FILE           the hub's CA certificate (PEM), for the device client
 *   NODE_EXTRA_CA_CERTS    the same CA, for the service SDK
 *
 * Output: one line per check, "ok <name>" or "not ok <name>: <details>", then "N passed, M failed".
 */

const fs = require('fs');
const { Client: DeviceClient } = require('azure-iot-device');
const { Amqp } = require('azure-iot-device-amqp');
const { Client } = require('azure-iothub');
// The service SDK carries its own copies of the common classes.
const { Message } = require('azure-iothub/dist/common-core/message');
const errors = require('azure-iothub/dist/common-core/errors');

const h = require('./compat-harness')({ checkTimeoutFactor: 8 });
const { CALL_TIMEOUT_MS, check, assert, assertEq, timed } = h;

const ca = fs.readFileSync(process.env.HERD_CA_FILE, 'utf8');
const deviceCs = process.env.HERD_DEVICE_CS;
const deviceId = /DeviceId=([^;]+)/.exec(deviceCs)[1];
const offline = process.env.HERD_OFFLINE_DEVICE;

/** Runs an SDK call that must fail with errorClass; returns the error. */
async function fails(what, fn, errorClass) {
  try {
    await timed(what, fn);
  } catch (err) {
    if (err instanceof h.CallTimeout) throw err;
    assert(err instanceof errorClass, `${what}: expected ${errorClass.name}, got ${h.describe(err)}`);
    return err;
  }
  throw new h.CheckFailure(`${what}: expected ${errorClass.name}, but it succeeded`);
}

h.run(async () => {
  console.log(`# call timeout ${CALL_TIMEOUT_MS} ms`);
  const client = Client.fromConnectionString(process.env.HERD_SERVICE_CS);
  const device = DeviceClient.fromConnectionString(deviceCs, Amqp);
  device.setOptions({ ca });
  const received = new Promise((resolve) => {
    device.on('message', (msg) => {
      device.complete(msg, () => {});
      resolve(msg);
    });
  });
  const feedback = [];
  let feedbackArrived = () => {};

  await check('service: open', async () => {
    await timed('client.open', () => client.open());
  });

  await check('service: getFeedbackReceiver', async () => {
    const { result: r } = await timed('getFeedbackReceiver', () => client.getFeedbackReceiver());
    assert(r && typeof r.on === 'function', `a receiver, got ${r}`);
    r.on('message', (msg) => {
      assertEq(msg.contentType, 'application/vnd.microsoft.iothub.feedback.json', 'feedback content type');
      for (const record of JSON.parse(msg.data.toString())) feedback.push(record);
      feedbackArrived();
    });
  });

  await check('device: open and listen for messages', async () => {
    await timed('device.open', () => device.open());
  });

  await check('service: send reaches the device, which completes it', async () => {
    const msg = new Message('hello over amqp');
    msg.messageId = 'svc-1';
    msg.ack = 'full';
    msg.properties.add('color', 'green');
    await timed('client.send', () => client.send(deviceId, msg));
    const got = await timed('device receives', () => received);
    assertEq(got.data.toString(), 'hello over amqp', 'body');
    assertEq(got.messageId, 'svc-1', 'messageId');
    const props = [];
    for (let i = 0; i < got.properties.count(); i++) props.push(got.properties.getItem(i));
    const color = props.find((p) => p.key === 'color');
    assert(color && color.value === 'green', `properties: ${JSON.stringify(props)}`);
  });

  await check('service: feedback receiver gets Success for the completed message', async () => {
    const success = () => feedback.find((f) => f.originalMessageId === 'svc-1');
    if (!success()) {
      await timed('feedback', () => new Promise((resolve) => {
        feedbackArrived = () => {
          if (success()) resolve();
        };
      }));
    }
    const record = success();
    assertEq(record.statusCode, 'Success', 'statusCode');
    assertEq(record.deviceId, deviceId, 'deviceId');
    assert(typeof record.enqueuedTimeUtc === 'string', `enqueuedTimeUtc: ${JSON.stringify(record)}`);
  });

  await check('service: send to an unknown device fails with DeviceNotFoundError', async () => {
    await fails('send unknown', () => client.send(`no-such-device-${h.SUFFIX}`, new Message('x')), errors.DeviceNotFoundError);
  });

  await check('service: a full queue fails with DeviceMaximumQueueDepthExceededError', async () => {
    for (let i = 0; i < 50; i++) {
      await timed(`send ${i}`, () => client.send(offline, new Message(`m${i}`)));
    }
    await fails('send 51st', () => client.send(offline, new Message('one too many')), errors.DeviceMaximumQueueDepthExceededError);
  });

  await check('close', async () => {
    await timed('device.close', () => device.close());
    await timed('client.close', () => client.close());
  });
});

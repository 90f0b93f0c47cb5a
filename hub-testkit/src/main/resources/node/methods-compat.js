'use strict';
/*
 * Direct-method compatibility checks: the official service SDK (azure-iothub 1.16.6,
 * Client.invokeDeviceMethod) against the official device SDK (azure-iot-device 1.18.4 with the Mqtt transport,
 * onDeviceMethod), both unmodified, through a Herd hub.
 *
 * Environment:
 *   HERD_SERVICE_CS          iothubowner connection string
 *   HERD_DEVICE_CS_ANSWERS   a device that answers 'reboot' (GatewayHostName=host:port)
 *   HERD_DEVICE_CS_OFFLINE   a device that never connects
 *   HERD_DEVICE_CS_SILENT    a device that receives 'hang' and never answers
 *   HERD_DEVICE_CS_LATE      a device that connects only after the call was made
 *   HERD_CA_FILE, NODE_EXTRA_CA_CERTS  the hub's CA
 */

const fs = require('fs');
const { Client: DeviceClient } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');
const { Client: ServiceClient } = require('azure-iothub');
const errors = require('azure-iothub/dist/common-core/errors');

const h = require('./compat-harness')({ checkTimeoutFactor: 6 });
const { check, assert, assertEq, timed, sdkError } = h;

const ca = fs.readFileSync(process.env.HERD_CA_FILE, 'utf8');
const service = ServiceClient.fromConnectionString(process.env.HERD_SERVICE_CS);
const idOf = (cs) => /DeviceId=([^;]+)/.exec(cs)[1];

async function device(cs, methods) {
  const client = DeviceClient.fromConnectionString(cs, Mqtt);
  client.setOptions({ ca });
  for (const [name, handler] of Object.entries(methods)) client.onDeviceMethod(name, handler);
  await timed('device open', () => client.open());
  return client;
}

h.run(async () => {
  const answers = await device(process.env.HERD_DEVICE_CS_ANSWERS, {
    reboot: (req, res) => res.send(200, { rebooted: true, delay: req.payload.delay }, () => {}),
  });
  const silent = await device(process.env.HERD_DEVICE_CS_SILENT, { hang: () => {} });

  await check('invokeDeviceMethod returns the device status and payload', async () => {
    const { result } = await timed('invokeDeviceMethod', () =>
      service.invokeDeviceMethod(idOf(process.env.HERD_DEVICE_CS_ANSWERS), {
        methodName: 'reboot',
        payload: { delay: 7 },
        responseTimeoutInSeconds: 10,
      }),
    );
    assertEq(result.status, 200, 'status');
    assertEq(result.payload.rebooted, true, 'payload.rebooted');
    assertEq(result.payload.delay, 7, 'payload.delay');
  });

  await check('an offline device fails with 404 (DeviceNotOnline)', async () => {
    const err = await sdkError(
      'invokeDeviceMethod offline',
      () => service.invokeDeviceMethod(idOf(process.env.HERD_DEVICE_CS_OFFLINE), { methodName: 'reboot', responseTimeoutInSeconds: 5 }),
      Error,
      404,
    );
    assert(String(err.responseBody || '').includes('404103'), `body: ${err.responseBody}`);
  });

  await check('a device that never answers fails with GatewayTimeoutError', async () => {
    await sdkError(
      'invokeDeviceMethod silent',
      () => service.invokeDeviceMethod(idOf(process.env.HERD_DEVICE_CS_SILENT), { methodName: 'hang', responseTimeoutInSeconds: 5 }),
      errors.GatewayTimeoutError,
      504,
    );
  });

  await check('a device that connects within connectTimeoutInSeconds gets the call', async () => {
    const call = service.invokeDeviceMethod(idOf(process.env.HERD_DEVICE_CS_LATE), {
      methodName: 'reboot',
      payload: { delay: 1 },
      responseTimeoutInSeconds: 10,
      connectTimeoutInSeconds: 20,
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const late = await device(process.env.HERD_DEVICE_CS_LATE, {
      reboot: (req, res) => res.send(201, { late: true }, () => {}),
    });
    try {
      const { result } = await timed('late invokeDeviceMethod', () => call);
      assertEq(result.status, 201, 'status');
      assertEq(result.payload.late, true, 'payload.late');
    } finally {
      await late.close();
    }
  });

  await answers.close();
  await silent.close();
});

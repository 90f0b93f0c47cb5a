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
 * The test that runs this script queues a cloud-to-device message for each device before it connects (it is
 * delivered when the device attaches its C2D link) and invokes the 'reboot' direct method through the hub's
 * internal API while the script waits for it.
 * Output: one line per check, "ok <name>" or "not ok <name>: <details>", then "N passed, M failed".
 */

const fs = require('fs');
const { Amqp, AmqpWs } = require('azure-iot-device-amqp');
const { Registry } = require('azure-iothub');
const { exercise } = require('./device-compat');

const h = require('./compat-harness')({ checkTimeoutFactor: 6 });
const { CALL_TIMEOUT_MS, assert, assertEq } = h;

const sdk = {
  ca: fs.readFileSync(process.env.HERD_CA_FILE, 'utf8'),
  registry: Registry.fromConnectionString(process.env.HERD_SERVICE_CS),
};

const amqpChecks = {
  // The AMQP transport wraps the twin client's error (a FormatError for status 400, its message from the
  // JSON body) in a plain Error whose message ends with the hub's explanation.
  invalidPatch: (err) => {
    assertEq(err.amqpError && err.amqpError.name, 'FormatError', 'twin error class (status 400)');
    assert(/\$bad/.test(err.message), `error message names the bad property: ${err.message}`);
  },
  c2d: (msg) => assertEq(msg.ack, 'full', 'ack'),
};

h.run(async () => {
  console.log(`# call timeout ${CALL_TIMEOUT_MS} ms`);
  await exercise(h, sdk, 'amqp', Amqp, process.env.HERD_DEVICE_CS_AMQP, amqpChecks);
  if (process.env.HERD_DEVICE_CS_AMQPWS) {
    await exercise(h, sdk, 'amqp-ws', AmqpWs, process.env.HERD_DEVICE_CS_AMQPWS, amqpChecks);
  }
});

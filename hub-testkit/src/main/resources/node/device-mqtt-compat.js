'use strict';
/*
 * Device-side MQTT compatibility checks for a Herd hub, driven only through the official device SDK
 * (azure-iot-device 1.18.4 with azure-iot-device-mqtt 1.16.4, transports Mqtt and MqttWs) and, for the
 * service side of twins, azure-iothub 1.16.6.
 *
 * Environment:
 *   HERD_DEVICE_CS_MQTT    device connection string for the Mqtt transport (with GatewayHostName=host:port)
 *   HERD_DEVICE_CS_MQTTWS  device connection string for the MqttWs transport (WebSocket on port 443)
 *   HERD_SERVICE_CS        iothubowner connection string
 *   HERD_SERVICE_TOKEN     a service SAS token, for reading GET /messages/events
 *   HERD_CA_FILE           the hub's CA certificate (PEM), given to the device client with setOptions({ca})
 *   NODE_EXTRA_CA_CERTS    the same CA, for the service SDK and https
 *
 * The test that runs this script queues a cloud-to-device message for each device before it connects (it is
 * delivered when the device subscribes) and invokes the 'reboot' direct method through the hub's internal API
 * while the script waits for it.
 * Output: one line per check, "ok <name>" or "not ok <name>: <details>", then "N passed, M failed".
 */

const fs = require('fs');
const { Mqtt, MqttWs } = require('azure-iot-device-mqtt');
const { Registry } = require('azure-iothub');
const { exercise } = require('./device-compat');

const h = require('./compat-harness')({ checkTimeoutFactor: 6 });
const { CALL_TIMEOUT_MS, assert, assertEq } = h;

const sdk = {
  ca: fs.readFileSync(process.env.HERD_CA_FILE, 'utf8'),
  registry: Registry.fromConnectionString(process.env.HERD_SERVICE_CS),
};

h.run(async () => {
  console.log(`# call timeout ${CALL_TIMEOUT_MS} ms`);
  await exercise(h, sdk, 'mqtt', Mqtt, process.env.HERD_DEVICE_CS_MQTT);
  await exercise(h, sdk, 'mqtt-ws', MqttWs, process.env.HERD_DEVICE_CS_MQTTWS);
});

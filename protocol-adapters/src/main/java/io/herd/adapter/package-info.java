/** Device protocol adapters (MQTT, AMQP, HTTPS); built in the device-endpoint issues. */
package io.herd.adapter;

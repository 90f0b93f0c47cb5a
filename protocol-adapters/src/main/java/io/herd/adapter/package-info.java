/**
 * Device protocol adapters: {@code common} holds what every protocol shares (device authentication,
 * the live session directory, telemetry ingest), {@code mqtt} the MQTT endpoint.
 */
package io.herd.adapter;

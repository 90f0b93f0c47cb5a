/** Hot twins in memory with durable write-behind; built in the twin-engine issue. */
package io.herd.twin;

/** Facts of the AMQP 1.0 type encoding shared by the hub's AMQP reader and the load generator. */
package io.herd.core.amqp;

package io.herd.adapter.amqp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.herd.adapter.amqp.internal.AmqpAddress;
import io.herd.adapter.amqp.internal.AmqpAddress.Kind;
import io.herd.adapter.amqp.internal.AmqpAddress.Parsed;
import org.junit.jupiter.api.Test;

class AmqpAddressTest {

  @Test
  void deviceAndModuleFeatureAddresses() {
    assertThat(AmqpAddress.parse("/devices/d1/messages/events"))
        .isEqualTo(new Parsed(Kind.EVENTS, "d1", null));
    assertThat(AmqpAddress.parse("/devices/d1/messages/devicebound"))
        .isEqualTo(new Parsed(Kind.DEVICEBOUND, "d1", null));
    assertThat(AmqpAddress.parse("/devices/d1/twin")).isEqualTo(new Parsed(Kind.TWIN, "d1", null));
    assertThat(AmqpAddress.parse("/devices/d1/methods/devicebound"))
        .isEqualTo(new Parsed(Kind.METHODS, "d1", null));
    assertThat(AmqpAddress.parse("/devices/d1/modules/m1/messages/events"))
        .isEqualTo(new Parsed(Kind.EVENTS, "d1", "m1"));
    assertThat(AmqpAddress.parse("/devices/d1/modules/m1/twin"))
        .isEqualTo(new Parsed(Kind.TWIN, "d1", "m1"));
    assertThat(AmqpAddress.parse("/devices/d1/modules/m1/methods/devicebound"))
        .isEqualTo(new Parsed(Kind.METHODS, "d1", "m1"));
  }

  @Test
  void fixedPartsMatchCaseInsensitivelyIdsExactly() {
    assertThat(AmqpAddress.parse("/devices/D1/methods/deviceBound"))
        .isEqualTo(new Parsed(Kind.METHODS, "D1", null));
    assertThat(AmqpAddress.parse("/messages/deviceBound"))
        .isEqualTo(new Parsed(Kind.SERVICE_SEND, null, null));
    assertThat(AmqpAddress.parse("/messages/serviceBound/feedback"))
        .isEqualTo(new Parsed(Kind.FEEDBACK, null, null));
    assertThat(AmqpAddress.parse("/messages/servicebound/filenotifications"))
        .isEqualTo(new Parsed(Kind.FILE_NOTIFICATIONS, null, null));
    assertThat(AmqpAddress.parse("$cbs")).isEqualTo(new Parsed(Kind.CBS, null, null));
  }

  @Test
  void schemeHostAndQueryAreIgnored() {
    assertThat(AmqpAddress.parse("amqps://hub.example/devices/d1/messages/events?api-version=x"))
        .isEqualTo(new Parsed(Kind.EVENTS, "d1", null));
  }

  @Test
  void unknownOrInvalidAddressesAreNull() {
    assertThat(AmqpAddress.parse(null)).isNull();
    assertThat(AmqpAddress.parse("")).isNull();
    assertThat(AmqpAddress.parse("/devices/d1")).isNull();
    assertThat(AmqpAddress.parse("/devices/d1/messages")).isNull();
    assertThat(AmqpAddress.parse("/devices/d1/messages/events/extra")).isNull();
    assertThat(AmqpAddress.parse("/devices/d 1/messages/events")).isNull();
    assertThat(AmqpAddress.parse("/devices//messages/events")).isNull();
    // Modules get no cloud-to-device queue.
    assertThat(AmqpAddress.parse("/devices/d1/modules/m1/messages/devicebound")).isNull();
    assertThat(AmqpAddress.parse("devices/d1/messages/events")).isNull();
    assertThat(AmqpAddress.parse("$CBS")).isNull();
  }

  @Test
  void cbsAudiencesNameADeviceAModuleOrTheHub() {
    assertThat(AmqpAddress.audience("hub.local%2Fdevices%2Fd1"))
        .isEqualTo(new Parsed(Kind.CBS, "d1", null));
    assertThat(AmqpAddress.audience("hub.local/devices/d1/modules/m1"))
        .isEqualTo(new Parsed(Kind.CBS, "d1", "m1"));
    // Node encodes ids with encodeURIComponent: '+' arrives as %2B, '%' as %25.
    assertThat(AmqpAddress.audience("hub.local%2Fdevices%2Fa%2Bb%25c"))
        .isEqualTo(new Parsed(Kind.CBS, "a+b%c", null));
    assertThat(AmqpAddress.audience("hub.local")).isNull();
    assertThat(AmqpAddress.audience("hub.local%3A5671%2Fdevices")).isNull();
    assertThat(AmqpAddress.audience("amqps://hub.local/devices/d1"))
        .isEqualTo(new Parsed(Kind.CBS, "d1", null));
  }

  @Test
  void otherAudiencesAreErrors() {
    assertThatThrownBy(() -> AmqpAddress.audience("hub.local/devices/d1/twin"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> AmqpAddress.audience("hub.local%2Fdevices%2Fd1%ZZ"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> AmqpAddress.audience(" "))
        .isInstanceOf(IllegalArgumentException.class);
  }
}

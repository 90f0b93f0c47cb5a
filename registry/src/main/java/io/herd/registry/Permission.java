package io.herd.registry;

/** What a shared access policy allows (azure-iothub-wire.md §1.2). */
public enum Permission {
  REGISTRY_READ("RegistryRead"),
  REGISTRY_WRITE("RegistryWrite"),
  SERVICE_CONNECT("ServiceConnect"),
  DEVICE_CONNECT("DeviceConnect");

  private final String wire;

  Permission(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }

  public static Permission parse(String s) {
    for (Permission p : values()) {
      if (p.wire.equalsIgnoreCase(s.trim())) {
        return p;
      }
    }
    throw new IllegalArgumentException("unknown permission " + s);
  }
}

package io.herd.registry;

import io.vertx.core.Future;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The hub's shared access policies. On first start the built-in ones are created with fresh keys
 * and persisted; later starts load them, so connection strings stay valid across restarts.
 */
public final class AccessPolicies {
  /** The built-in policies and their rights, in the order IoT Hub lists them. */
  public static final Map<String, EnumSet<Permission>> BUILT_IN = builtIn();

  private final Map<String, AccessPolicy> byName;

  private AccessPolicies(List<AccessPolicy> policies) {
    List<String> builtIn = new ArrayList<>(BUILT_IN.keySet());
    List<AccessPolicy> ordered = new ArrayList<>(policies);
    // Built-ins first in IoT Hub's order, then the rest by name: stable output for hub.json.
    ordered.sort(
        Comparator.comparingInt(
                (AccessPolicy p) -> {
                  int i = builtIn.indexOf(p.name());
                  return i < 0 ? Integer.MAX_VALUE : i;
                })
            .thenComparing(AccessPolicy::name));
    Map<String, AccessPolicy> m = new LinkedHashMap<>();
    ordered.forEach(p -> m.put(p.name().toLowerCase(Locale.ROOT), p));
    this.byName = Collections.unmodifiableMap(m);
  }

  private static Map<String, EnumSet<Permission>> builtIn() {
    Map<String, EnumSet<Permission>> m = new LinkedHashMap<>();
    m.put("iothubowner", EnumSet.allOf(Permission.class));
    m.put("service", EnumSet.of(Permission.SERVICE_CONNECT));
    m.put("device", EnumSet.of(Permission.DEVICE_CONNECT));
    m.put("registryRead", EnumSet.of(Permission.REGISTRY_READ));
    m.put("registryReadWrite", EnumSet.of(Permission.REGISTRY_READ, Permission.REGISTRY_WRITE));
    return Collections.unmodifiableMap(m);
  }

  /** Loads the policies, creating any missing built-in one first. */
  public static Future<AccessPolicies> open(PolicyStore store) {
    SecureRandom random = new SecureRandom();
    List<AccessPolicy> defaults = new ArrayList<>();
    BUILT_IN.forEach(
        (name, rights) ->
            defaults.add(new AccessPolicy(name, rights, newKey(random), newKey(random))));
    return store.insertMissing(defaults).compose(v -> store.load()).map(AccessPolicies::new);
  }

  /** For tests and tools that hold policies already. */
  public static AccessPolicies of(List<AccessPolicy> policies) {
    return new AccessPolicies(policies);
  }

  private static String newKey(SecureRandom random) {
    byte[] key = new byte[32];
    random.nextBytes(key);
    return Base64.getEncoder().encodeToString(key);
  }

  /** Looks a policy up by name, ignoring case as IoT Hub does. */
  public Optional<AccessPolicy> find(String name) {
    return name == null
        ? Optional.empty()
        : Optional.ofNullable(byName.get(name.toLowerCase(Locale.ROOT)));
  }

  public List<AccessPolicy> all() {
    return List.copyOf(byName.values());
  }
}

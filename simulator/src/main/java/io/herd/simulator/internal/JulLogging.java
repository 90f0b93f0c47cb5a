package io.herd.simulator.internal;

import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;

/** Logging of the simulator and the load generators: java.util.logging, on stderr. */
public final class JulLogging {
  private JulLogging() {}

  /**
   * The classpath has slf4j-api without a provider; JUL keeps Vert.x and Netty warnings (blocked
   * threads, leaks) visible on stderr. The few Vert.x classes that log through slf4j directly (the
   * trust manager wrapper, at info level) get its no-op provider without the warning slf4j prints
   * when it finds none.
   */
  public static void use() {
    InternalLoggerFactory.setDefaultFactory(JdkLoggerFactory.INSTANCE);
    if (System.getProperty("slf4j.provider") == null) {
      System.setProperty("slf4j.provider", "org.slf4j.helpers.NOP_FallbackServiceProvider");
      System.setProperty("slf4j.internal.verbosity", "WARN");
    }
    if (System.getProperty("vertx.logger-delegate-factory-class-name") == null) {
      System.setProperty(
          "vertx.logger-delegate-factory-class-name",
          "io.vertx.core.logging.JULLogDelegateFactory");
    }
  }
}

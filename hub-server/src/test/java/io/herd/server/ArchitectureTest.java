package io.herd.server;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Keeps the module edges of house-style §1: dependencies point downward only. */
class ArchitectureTest {
  private static JavaClasses classes;

  @BeforeAll
  static void importClasses() {
    classes =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.herd");
  }

  private static void noDependency(String from, String... to) {
    noClasses()
        .that()
        .resideInAPackage(from)
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(to)
        .allowEmptyShould(true)
        .check(classes);
  }

  @Test
  void coreDependsOnNoOtherModule() {
    noDependency(
        "io.herd.core..",
        "io.herd.query..",
        "io.herd.twin..",
        "io.herd.registry..",
        "io.herd.adapter..",
        "io.herd.server..",
        "io.herd.cli..",
        "io.herd.simulator..");
  }

  @Test
  void queryEngineIsPureJava() {
    noDependency(
        "io.herd.query..",
        "io.vertx..",
        "io.netty..",
        "io.herd.twin..",
        "io.herd.registry..",
        "io.herd.adapter..",
        "io.herd.server..");
  }

  @Test
  void twinEngineAndRegistryStayBelowAdaptersAndServer() {
    noDependency("io.herd.twin..", "io.herd.registry..", "io.herd.adapter..", "io.herd.server..");
    noDependency(
        "io.herd.registry..",
        "io.herd.twin..",
        "io.herd.query..",
        "io.herd.adapter..",
        "io.herd.server..");
  }

  @Test
  void adaptersNeverTouchPostgresOrTheServer() {
    noDependency(
        "io.herd.adapter..",
        "io.herd.server..",
        "io.vertx.pgclient..",
        "io.vertx.sqlclient..",
        "..pg..");
  }

  @Test
  void internalPackagesArePrivateToTheirModule() {
    for (String module : new String[] {"core", "query", "twin", "registry", "adapter", "server"}) {
      String root = "io.herd." + module;
      noClasses()
          .that()
          .resideOutsideOfPackage(root + "..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage(root + ".internal..")
          .allowEmptyShould(true)
          .check(classes);
    }
  }

  @Test
  void cliAndSimulatorTalkToTheHubOnlyOverTheWire() {
    noDependency(
        "io.herd.cli..",
        "io.herd.server..",
        "io.herd.registry..",
        "io.herd.twin..",
        "io.herd.adapter..");
    noDependency(
        "io.herd.simulator..",
        "io.herd.server..",
        "io.herd.registry..",
        "io.herd.twin..",
        "io.herd.adapter..");
  }
}

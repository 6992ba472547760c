package io.quorumkv.architecture;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.Architectures;
import java.util.Arrays;
import java.util.List;
import org.junit.Test;

/**
 * The package graph of the replica (docs/design.md, "Code map"): free of cycles, and layered, each
 * package using only the ones below it. A dependency that breaks the order fails the build here,
 * with the offending classes named.
 */
public class ArchitectureTest {

  /** Lowest first. */
  static final List<String> LAYERS = List.of(
      "labels", "logging", "security", "faults", "version", "config", "store", "wire", "transport", "membership", "replication",
      "coordinator", "metrics", "http");

  /** The replica's own classes (the client module, on the test class path too, is not judged here). */
  private static final JavaClasses REPLICA = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPath(java.nio.file.Path.of("target", "classes"));

  @Test
  public void theReplicaIsImported() {
    assertTrue("replica classes found: " + REPLICA.size(), REPLICA.contain("io.quorumkv.store.StoreActor")
        && REPLICA.contain("io.quorumkv.ReplicaMain"));
  }

  @Test
  public void packagesAreFreeOfCycles() {
    slices().matching("io.quorumkv.(*)..").should().beFreeOfCycles().check(REPLICA);
  }

  @Test
  public void eachPackageUsesOnlyTheOnesBelowIt() {
    layered(LAYERS).check(REPLICA);
  }

  @Test
  public void theRulesCatchAPlantedCycle() {
    JavaClasses planted = new ClassFileImporter().importPackages("io.quorumkv.architecture.planted");
    AssertionError cycle = assertThrows(AssertionError.class,
        () -> slices().matching("io.quorumkv.architecture.planted.(*)..").should().beFreeOfCycles().check(planted));
    assertTrue(cycle.getMessage(), cycle.getMessage().contains("Cycle detected"));
    Architectures.LayeredArchitecture layers = Architectures.layeredArchitecture()
        .consideringOnlyDependenciesInLayers()
        .layer("low").definedBy("io.quorumkv.architecture.planted.low..")
        .layer("high").definedBy("io.quorumkv.architecture.planted.high..")
        .whereLayer("high").mayNotBeAccessedByAnyLayer();
    assertThrows(AssertionError.class, () -> layers.check(planted));
  }

  /** Each layer may be used only by the layers after it in {@code layers} (and the launcher). */
  static Architectures.LayeredArchitecture layered(List<String> layers) {
    Architectures.LayeredArchitecture architecture = Architectures.layeredArchitecture()
        .consideringOnlyDependenciesInLayers()
        .layer("launcher").definedBy("io.quorumkv");
    for (String layer : layers) {
      architecture = architecture.layer(layer).definedBy("io.quorumkv." + layer + "..");
    }
    architecture = architecture.whereLayer("launcher").mayNotBeAccessedByAnyLayer();
    for (int i = 0; i < layers.size(); i++) {
      String[] above = layers.subList(i + 1, layers.size()).toArray(String[]::new);
      String[] users = Arrays.copyOf(above, above.length + 1);
      users[above.length] = "launcher";
      architecture = architecture.whereLayer(layers.get(i)).mayOnlyBeAccessedByLayers(users);
    }
    return architecture;
  }
}

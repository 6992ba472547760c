package io.quorumkv.cli;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import com.typesafe.config.ConfigFactory;
import java.util.concurrent.TimeUnit;

/** The actor system one command's requests run on, stopped when the command ends. */
final class ClientSession implements AutoCloseable {

  final ActorSystem<Void> system;

  ClientSession(String name) {
    this(name, ConfigFactory.empty());
  }

  /** With {@code overrides} laid over the client's settings (e.g. a pool sized for a benchmark). */
  ClientSession(String name, com.typesafe.config.Config overrides) {
    this.system = ActorSystem.create(Behaviors.empty(), name,
        overrides.withFallback(ConfigFactory.load("quorumkv-client")));
  }

  @Override
  public void close() {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // Exiting anyway: nothing of the client outlives the process.
    }
  }
}

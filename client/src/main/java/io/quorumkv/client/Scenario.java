package io.quorumkv.client;

import akka.actor.typed.ActorSystem;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The mission scenario: PUT {@code k1=alpha} via peer0, PUT {@code k2=beta} via peer1, GET both
 * via peer2, and write {@code result.txt} with what was read. Replicas that are still starting
 * are waited for, up to a bound; a failure ends the scenario with a one-line reason.
 */
public final class Scenario {

  static final String RESULT_FILE = "result.txt";

  private final ActorSystem<?> system;
  private final Map<String, String> environment;
  private final Duration wait;
  private final Duration requestTimeout;
  private final PrintStream out;

  public Scenario(ActorSystem<?> system, Map<String, String> environment, Duration wait, Duration requestTimeout, PrintStream out) {
    this.system = system;
    this.environment = environment;
    this.wait = wait;
    this.requestTimeout = requestTimeout;
    this.out = out;
  }

  /**
   * Runs the scenario and writes {@code result.txt} into {@code directory}.
   *
   * @throws ScenarioFailed with the one-line reason
   */
  public void run(Path directory) {
    KvClient peer0 = client("peer0");
    KvClient peer1 = client("peer1");
    KvClient peer2 = client("peer2");
    long deadline = System.nanoTime() + wait.toNanos();

    put(peer0, "k1", "alpha", deadline);
    put(peer1, "k2", "beta", deadline);
    String k1 = get(peer2, "k1", deadline);
    String k2 = get(peer2, "k2", deadline);

    String result = "k1=" + k1 + "\nk2=" + k2 + "\n";
    try {
      Files.writeString(directory.resolve(RESULT_FILE), result, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ScenarioFailed("cannot write " + RESULT_FILE + ": " + e.getMessage());
    }
    if (!k1.equals("alpha") || !k2.equals("beta")) {
      throw new ScenarioFailed("read back k1=" + k1 + " k2=" + k2 + ", expected k1=alpha k2=beta");
    }
    out.println("wrote " + RESULT_FILE);
  }

  private KvClient client(String name) {
    try {
      // Replicas with client tokens or TLS need them: QUORUMKV_TOKEN, QUORUMKV_CACERT (and
      // QUORUMKV_CERT/QUORUMKV_KEY), as for every kv command.
      return new KvClient(system, NodeAddress.fromEnvironment(environment, name), requestTimeout,
          Credentials.fromEnvironment(environment));
    } catch (IllegalArgumentException e) {
      throw new ScenarioFailed(e.getMessage());
    }
  }

  private void put(KvClient client, String key, String value, long deadline) {
    try {
      // Retrying a PUT of the same value is safe: at worst the value is written twice.
      KvClient.Written written = Retrying.until(deadline,
          () -> client.put(key, value.getBytes(StandardCharsets.UTF_8)));
      out.println("PUT " + key + "=" + value + " via " + client.node() + " -> version " + written.version());
    } catch (KvException e) {
      throw new ScenarioFailed("PUT " + key + " via " + client.node() + " failed: " + e.getMessage());
    }
  }

  private String get(KvClient client, String key, long deadline) {
    Optional<KvClient.Entry> entry;
    try {
      entry = Retrying.until(deadline, () -> client.get(key));
    } catch (KvException e) {
      throw new ScenarioFailed("GET " + key + " via " + client.node() + " failed: " + e.getMessage());
    }
    if (entry.isEmpty()) {
      throw new ScenarioFailed("GET " + key + " via " + client.node() + " found nothing, after an acknowledged PUT");
    }
    out.println("GET " + key + " via " + client.node() + " -> " + entry.get().valueAsUtf8()
        + " (version " + entry.get().version() + ")");
    return entry.get().valueAsUtf8();
  }

  /** The scenario did not complete; the message is the one-line reason. */
  public static final class ScenarioFailed extends RuntimeException {
    ScenarioFailed(String message) {
      super(message, null, false, false);
    }
  }
}

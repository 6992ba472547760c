package io.quorumkv.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.Test;
import io.quorumkv.torture.ReplicaProcess;

/**
 * Goal: the README's quick-start command works as written: {@code bin/local-cluster.sh}
 * starts three replicas, runs the client scenario, prints an exact result.txt and stops what
 * it started. Method: run the script on three consecutive free ports; afterwards no replica
 * it started may still run.
 */
public class QuickStartIT {

  @Test
  public void localClusterScriptPrintsTheExactResultAndStopsItsReplicas() throws Exception {
    runQuickStart("script.log");
  }

  /** The same over HTTPS with mutual TLS between the replicas, certificates made by the script. */
  @Test
  public void localClusterScriptRunsOverTls() throws Exception {
    String output = runQuickStart("script-tls.log", "--tls");
    assertTrue(output, output.contains("on https://127.0.0.1:"));
  }

  private static String runQuickStart(String logName, String... options) throws Exception {
    int basePort = threeFreePorts();
    Path log = Files.createDirectories(Path.of("target", "cluster-it", "quick-start")).resolve(logName);
    java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("bash", "bin/local-cluster.sh"));
    command.addAll(java.util.List.of(options));
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    builder.environment().put("BASE_PORT", Integer.toString(basePort));
    builder.environment().keySet().removeIf(key -> key.startsWith("PEER_") || key.startsWith("QUORUMKV_")
        || key.startsWith("TLS_"));
    Process script = builder.start();
    String output;
    try {
      assertTrue("the script finished in time", script.waitFor(180, TimeUnit.SECONDS));
      output = Files.readString(log, StandardCharsets.UTF_8);
      assertEquals(output, 0, script.exitValue());
      assertTrue(output, output.endsWith("--- run/result.txt\nk1=alpha\nk2=beta\n"));
      assertEquals("k1=alpha\nk2=beta\n", Files.readString(Path.of("run", "result.txt"), StandardCharsets.UTF_8));
    } finally {
      script.descendants().forEach(ProcessHandle::destroyForcibly); // only if the script failed to
      script.destroyForcibly();
    }
    for (int port = basePort; port < basePort + 3; port++) {
      assertTrue("port " + port + " is free again", isFree(port));
    }
    return output;
  }

  private static int threeFreePorts() throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int base = ReplicaProcess.freePort();
      if (base < 65000 && isFree(base + 1) && isFree(base + 2)) {
        return base;
      }
    }
    throw new IllegalStateException("no three consecutive free ports found");
  }

  private static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}

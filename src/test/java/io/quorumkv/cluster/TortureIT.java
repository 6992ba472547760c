package io.quorumkv.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.quorumkv.torture.LocalCluster;
import io.quorumkv.torture.ReplicaProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.Test;

/**
 * The short torture run of CI: the client launcher's {@code torture} command against real
 * replica processes, 20 s with kill, pause and partition faults, must end linearizable; its
 * saved history must check linearizable again. The long runs with every fault are in docs/testing.md.
 */
public class TortureIT {

  private static final Path WORK = Path.of("target", "cluster-it", "torture");

  @Test(timeout = 300_000)
  public void shortTortureRunWithFaultsIsLinearizable() throws Exception {
    LocalCluster.deleteRecursively(WORK);
    Files.createDirectories(WORK);
    Path history = WORK.resolve("history.jsonl");
    List<String> output = runClient(WORK.resolve("torture.out"), "torture",
        "--replica-jar", ClusterFixture.REPLICA_JAR.toString(),
        "--duration", "20s", "--faults", "kill,pause,partition", "--clients", "4",
        "--history", history.toString(), "--work-dir", WORK.resolve("cluster").toString());

    String summary = String.join("\n", output);
    assertEquals(summary, "linearizable", output.get(output.size() - 1));
    for (String fault : List.of("kill", "pause", "partition")) {
      assertTrue("no " + fault + " injected:\n" + summary, summary.matches("(?s).*faults injected:.*" + fault + "=[1-9].*"));
    }
    Matcher ok = Pattern.compile("ok=(\\d+)").matcher(summary);
    assertTrue(summary, ok.find());
    assertTrue("too few successful operations to prove anything:\n" + summary, Integer.parseInt(ok.group(1)) >= 150);
    assertTrue("no counter was incremented through a conditional write:\n" + summary,
        summary.matches("(?s).*counters: counter0: [1-9][0-9]* increments ok.*"));

    List<String> recheck = runClient(WORK.resolve("check.out"), "torture", "--check", history.toString());
    assertEquals(String.join("\n", recheck), "linearizable", recheck.get(recheck.size() - 1));
  }

  /**
   * The deliberate bug of conditional writes (a quorum read, the compare, then a plain apply) is
   * caught: concurrent increments that read one version both win, which the checker (or the
   * counters' sums) cannot explain. No faults are needed, only contention.
   */
  @Test(timeout = 300_000)
  public void conditionalWritesWithoutConsensusAreCaught() throws Exception {
    Path work = WORK.resolveSibling("torture-compare-without-consensus");
    LocalCluster.deleteRecursively(work);
    Files.createDirectories(work);
    List<String> output = runClient(1, work.resolve("torture.out"), "torture",
        "--replica-jar", ClusterFixture.REPLICA_JAR.toString(),
        "--duration", "20s", "--faults", "none", "--clients", "6",
        "--deliberate-bugs", "compare-without-consensus",
        "--history", work.resolve("history.jsonl").toString(), "--work-dir", work.resolve("cluster").toString());
    String verdict = output.get(output.size() - 1);
    assertTrue(String.join("\n", output), verdict.startsWith("NOT linearizable") || verdict.startsWith("NOT OK"));
  }

  /**
   * The CI run over TLS: mutual TLS between replicas (through the fault proxies, which pass the
   * TLS bytes along), the workload over HTTPS; 15 s of kills and partitions, linearizable.
   */
  @Test(timeout = 300_000)
  public void shortTortureRunOverTlsIsLinearizable() throws Exception {
    Path work = WORK.resolveSibling("torture-tls");
    LocalCluster.deleteRecursively(work);
    Files.createDirectories(work);
    io.quorumkv.tls.TestPki.writeClusterDirectory(work.resolve("certs"));
    List<String> output = runClient(work.resolve("torture.out"), "torture",
        "--replica-jar", ClusterFixture.REPLICA_JAR.toString(),
        "--duration", "15s", "--faults", "kill,partition", "--clients", "4",
        "--history", work.resolve("history.jsonl").toString(), "--work-dir", work.resolve("cluster").toString(),
        "--tls-dir", work.resolve("certs").toString());
    String summary = String.join("\n", output);
    assertTrue(summary, output.get(0).endsWith(", over TLS"));
    assertEquals(summary, "linearizable", output.get(output.size() - 1));
    for (String fault : List.of("kill", "partition")) {
      assertTrue("no " + fault + " injected:\n" + summary, summary.matches("(?s).*faults injected:.*" + fault + "=[1-9].*"));
    }
    Matcher ok = Pattern.compile("ok=(\\d+)").matcher(summary);
    assertTrue(summary, ok.find());
    assertTrue("too few successful operations to prove anything:\n" + summary, Integer.parseInt(ok.group(1)) >= 100);
  }

  /** Runs the client jar, bounded in time; returns its output lines after asserting exit status 0. */
  private static List<String> runClient(Path log, String... args) throws IOException, InterruptedException {
    return runClient(0, log, args);
  }

  /** As {@link #runClient(Path, String...)}, asserting exit status {@code status}. */
  private static List<String> runClient(int status, Path log, String... args)
      throws IOException, InterruptedException {
    List<String> command = new java.util.ArrayList<>(List.of(ReplicaProcess.javaBinary(), "-jar",
        ClusterFixture.CLIENT_JAR.toString()));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!process.waitFor(240, TimeUnit.SECONDS)) {
      process.destroy(); // SIGTERM: its shutdown hook stops the replicas it started
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
      fail("torture did not finish within 240 s; see " + log);
    }
    List<String> lines = Files.readAllLines(log);
    assertEquals("exit status; output:\n" + String.join("\n", lines), status, process.exitValue());
    return lines;
  }
}

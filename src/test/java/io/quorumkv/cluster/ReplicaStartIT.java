package io.quorumkv.cluster;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.quorumkv.torture.ReplicaProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.Test;

/**
 * Goal: the replica jar, as an operator starts it, refuses every configuration mistake with exit
 * status 2 and a one-line reason before it binds or opens anything: an argument it does not take,
 * no peers, a misspelt setting, a bad log level or format, a malformed or missing tokens file; and
 * answers --help and --version.
 */
public class ReplicaStartIT {

  private static final Path WORK = Path.of("target", "cluster-it", "replica-start");

  /** Runs the replica jar to its exit (at most 60 s); returns its status and its output. */
  private static Map.Entry<Integer, String> start(Map<String, String> environment, String... args) throws Exception {
    Files.createDirectories(WORK);
    List<String> command = new ArrayList<>(List.of(ReplicaProcess.javaBinary(), "-jar", ClusterFixture.REPLICA_JAR.toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().keySet().removeIf(key -> key.startsWith("PEER_") || key.startsWith("LOG_"));
    builder.environment().put("PORT", Integer.toString(ReplicaProcess.freePort()));
    builder.environment().put("DATA_DIR", WORK.resolve("data").toString());
    builder.environment().putAll(environment);
    Process process = builder.start();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("the replica did not exit within 60 s: " + String.join(" ", args) + " " + environment);
    }
    return Map.entry(process.exitValue(), new String(process.getInputStream().readAllBytes()));
  }

  private static void refused(String reason, Map<String, String> environment, String... args) throws Exception {
    Map.Entry<Integer, String> run = start(environment, args);
    assertEquals(run.getValue(), 2, (int) run.getKey());
    assertTrue(run.getValue(), run.getValue().contains(reason));
    assertEquals(run.getValue(), 1, run.getValue().strip().lines().count());
  }

  @Test(timeout = 300_000)
  public void everyConfigurationMistakeExits2WithOneLine() throws Exception {
    Map<String, String> peers = Map.of("PEER_PEER1_HOST", "127.0.0.1", "PEER_PEER1_PORT", "1",
        "PEER_PEER2_HOST", "127.0.0.1", "PEER_PEER2_PORT", "2");
    refused("unexpected argument '--port'", peers, "--port", "8000");
    refused("no peers configured", Map.of());
    Map<String, String> misspelt = new java.util.HashMap<>(peers);
    misspelt.put("JAVA_TOOL_OPTIONS", "-Dquorumkv.write-timout=3s");
    Map.Entry<Integer, String> run = start(misspelt);
    assertEquals(run.getValue(), 2, (int) run.getKey());
    assertTrue(run.getValue(), run.getValue().contains("unknown setting quorumkv.write-timout (did you mean"));
    Map<String, String> loud = new java.util.HashMap<>(peers);
    loud.put("LOG_LEVEL", "loud");
    refused("LOG_LEVEL must be", loud);
    Map<String, String> xml = new java.util.HashMap<>(peers);
    xml.put("LOG_FORMAT", "xml");
    refused("LOG_FORMAT must be", xml);
    Path tokens = WORK.resolve("tokens.txt");
    Files.writeString(tokens, "too-short read\n");
    Map<String, String> badTokens = new java.util.HashMap<>(peers);
    badTokens.put("AUTH_TOKENS_FILE", tokens.toString());
    refused("line 1: a token must have at least 16 characters", badTokens);
    badTokens.put("AUTH_TOKENS_FILE", WORK.resolve("no-such-file").toString());
    refused("cannot read AUTH_TOKENS_FILE", badTokens);
    Map<String, String> strict = new java.util.HashMap<>(peers);
    strict.put("REQUIRE_AUTH", "true");
    refused("REQUIRE_AUTH=true needs TLS_CERT_FILE, TLS_KEY_FILE, TLS_CA_FILE and AUTH_TOKENS_FILE; missing: TLS_CERT_FILE,"
        + " TLS_KEY_FILE, TLS_CA_FILE, AUTH_TOKENS_FILE", strict);
    Files.writeString(tokens, "0123456789abcdef0123 read\n");
    strict.put("AUTH_TOKENS_FILE", tokens.toString());
    refused("missing: TLS_CERT_FILE, TLS_KEY_FILE, TLS_CA_FILE", strict);
    // TLS files that cannot work: a key of another certificate, a certificate not valid now.
    Path certs = WORK.resolve("certs");
    io.quorumkv.tls.TestPki ca = io.quorumkv.tls.TestPki.create("start CA");
    ca.writeCertificate(certs.resolve("ca.pem"));
    ca.issue("a", io.quorumkv.tls.TestPki.Usage.REPLICA, java.util.List.of("127.0.0.1")).write(certs, "a");
    ca.issue("b", io.quorumkv.tls.TestPki.Usage.REPLICA, java.util.List.of("127.0.0.1")).write(certs, "b");
    java.time.Instant now = java.time.Instant.now();
    ca.issue("old", io.quorumkv.tls.TestPki.Usage.REPLICA, java.util.List.of("127.0.0.1"),
        now.minus(java.time.Duration.ofDays(3)), now.minus(java.time.Duration.ofDays(1))).write(certs, "old");
    Map<String, String> tls = new java.util.HashMap<>(strict);
    tls.put("TLS_CA_FILE", certs.resolve("ca.pem").toString());
    tls.put("TLS_CERT_FILE", certs.resolve("a.pem").toString());
    tls.put("TLS_KEY_FILE", certs.resolve("b-key.pem").toString());
    refused("is not the private key of the first certificate", tls);
    tls.put("TLS_CERT_FILE", certs.resolve("old.pem").toString());
    tls.put("TLS_KEY_FILE", certs.resolve("old-key.pem").toString());
    refused("not now", tls);
    assertTrue("nothing was created for a refused start", Files.notExists(WORK.resolve("data")));
  }

  @Test(timeout = 120_000)
  public void helpAndVersionExit0() throws Exception {
    Map.Entry<Integer, String> help = start(Map.of(), "--help");
    assertEquals(help.getValue(), 0, (int) help.getKey());
    assertTrue(help.getValue(), help.getValue().contains("PEER_<NAME>_HOST"));
    Map.Entry<Integer, String> version = start(Map.of(), "--version");
    assertEquals(version.getValue(), 0, (int) version.getKey());
    assertTrue(version.getValue(), version.getValue().matches("(?s)quorumkv \\d+\\.\\d+\\.\\d+.* \\(commit .*, wire v2, Java .*\\)\\s*"));
  }
}

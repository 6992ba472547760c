package io.quorumkv.cli;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quorumkv.client.NodeAddress;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.After;
import org.junit.Test;

/**
 * Goal: the CLI's commands, flags, output formats and exit statuses, against stand-in replicas
 * ({@link StubReplica}) that can give every kind of answer on demand, including failover when
 * the first endpoint is down. The cluster tests run the same CLI against real replicas.
 */
public class KvTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private byte[] stdin = new byte[0];
  private final List<StubReplica> stubs = new java.util.ArrayList<>();

  @After
  public void stopStubs() {
    stubs.forEach(StubReplica::close);
  }

  private StubReplica stub() throws Exception {
    StubReplica stub = new StubReplica();
    stubs.add(stub);
    return stub;
  }

  private int run(Map<String, String> environment, Path directory, String... args) {
    out.reset();
    err.reset();
    return Kv.run(args, environment, directory, new ByteArrayInputStream(stdin),
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private int run(String... args) {
    return run(Map.of(), Path.of("."), args);
  }

  private String stdout() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String stderr() {
    return err.toString(StandardCharsets.UTF_8);
  }

  private JsonNode json() throws Exception {
    return JSON.readTree(out.toByteArray());
  }

  /** An address where nothing listens: connections to it are refused. */
  private static String downEndpoint() throws Exception {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return "127.0.0.1:" + socket.getLocalPort();
    }
  }

  @Test
  public void helpAndVersionOnEveryCommand() {
    assertEquals(0, run("--help"));
    for (String command : List.of("put", "get", "delete", "status", "health", "version", "snapshot", "bench", "torture")) {
      assertTrue(command, stdout().contains(command));
    }
    assertTrue(stdout(), stdout().contains("Exit statuses:") && stdout().contains("3   a write's outcome is unknown"));
    for (String command : List.of("put", "get", "delete", "status", "health", "version", "snapshot", "bench", "torture")) {
      assertEquals(command, 0, run(command, "-h"));
      assertTrue(command + ": " + stdout(), stdout().startsWith("Usage: kv " + command));
    }
    assertTrue(stdout(), stdout().contains("--duration")); // torture -h shows torture's own options
    assertEquals(0, run("--version"));
    assertTrue(stdout(), stdout().startsWith("quorumkv-client "));
    assertEquals(0, run("get", "--version"));
  }

  @Test
  public void badUsageExits2WithAReason() throws Exception {
    String endpoint = stub().endpoint();
    for (String[] args : List.of(
        new String[] {"frobnicate"}, new String[] {"get"}, new String[] {"put", "k", "--endpoints", endpoint},
        new String[] {"put", "k", "v", "--file", "f", "--endpoints", endpoint},
        new String[] {"put", "k", "--file", "/nonexistent/value", "--endpoints", endpoint},
        new String[] {"get", "k", "--endpoints"}, new String[] {"get", "k", "--endpoints", "nocolon"},
        new String[] {"get", "k", "--consistency", "most", "--endpoints", endpoint},
        new String[] {"get", "k", "--timeout", "soon", "--endpoints", endpoint},
        new String[] {"get", "k", "--colour", "red"}, new String[] {"get", "k", "-w", "yaml"},
        new String[] {"bench", "--concurrency", "0", "--nodes", endpoint})) {
      assertEquals(String.join(" ", args), ExitStatus.USAGE, run(args));
      assertTrue(String.join(" ", args) + ": " + stderr(), !stderr().isBlank());
    }
  }

  @Test
  public void tlsOptionsThatCannotWorkExit2WithTheReason() throws Exception {
    String endpoint = stub().endpoint();
    Map<String, String[]> cases = Map.of(
        "given for http:// endpoints", new String[] {"get", "k", "--endpoints", "http://" + endpoint, "--cacert", "ca.pem"},
        "mix http:// and https://", new String[] {"get", "k", "--endpoints", "http://" + endpoint + ",https://" + endpoint},
        "/nonexistent/ca.pem", new String[] {"get", "k", "--endpoints", endpoint, "--cacert", "/nonexistent/ca.pem"},
        "go together", new String[] {"status", "--endpoints", endpoint, "--cert", "client.pem"});
    cases.forEach((reason, args) -> {
      assertEquals(String.join(" ", args), ExitStatus.USAGE, run(args));
      assertTrue(String.join(" ", args) + ": " + stderr(), stderr().contains(reason));
    });
    assertEquals(ExitStatus.USAGE, run(Map.of("QUORUMKV_CACERT", "/nonexistent/env-ca.pem"), Path.of("."),
        "get", "k", "--endpoints", endpoint));
    assertTrue(stderr(), stderr().contains("/nonexistent/env-ca.pem"));
    // An explicit http:// scheme is plain HTTP, as a bare endpoint is.
    assertEquals(ExitStatus.NOT_FOUND, run("get", "k", "--endpoints", "http://" + endpoint));
  }

  @Test
  public void withoutEndpointsAnywhereACommandExits2NamingWhereTheyComeFrom() {
    assertEquals(ExitStatus.USAGE, run("get", "k"));
    assertTrue(stderr(), stderr().contains("--endpoints") && stderr().contains("QUORUMKV_ENDPOINTS"));
  }

  @Test
  public void conditionalWritesExit5WhenTheConditionIsFalse() throws Exception {
    String endpoint = stub().endpoint();
    assertEquals(0, run("put", "lock", "mine", "--if-absent", "--endpoints", endpoint));
    assertEquals("ok version v1\n", stdout());
    assertEquals(ExitStatus.PRECONDITION_FAILED, run("put", "lock", "theirs", "--if-absent", "--endpoints", endpoint));
    assertTrue(stderr(), stderr().contains("precondition failed") && stderr().contains("v1"));
    assertEquals(0, run("put", "lock", "renewed", "--if-match", "v1", "--endpoints", endpoint));
    assertEquals(ExitStatus.PRECONDITION_FAILED, run("put", "lock", "stale", "--if-match", "v1", "--endpoints", endpoint,
        "-w", "json"));
    assertTrue(stdout(), stdout().contains("\"outcome\":\"precondition-failed\""));
    assertEquals(ExitStatus.PRECONDITION_FAILED, run("delete", "lock", "--if-match", "v1", "--endpoints", endpoint));
    assertEquals(0, run("delete", "lock", "--if-match", "v2", "--endpoints", endpoint));
    assertEquals(ExitStatus.USAGE, run("put", "lock", "x", "--if-match", "v2", "--if-absent", "--endpoints", endpoint));
  }

  @Test
  public void putAndGetBothOptionFormsAndTheEnvironment() throws Exception {
    StubReplica replica = stub();
    assertEquals(0, run("put", "k1", "alpha", "--endpoints=" + replica.endpoint()));
    assertEquals("ok version v1\n", stdout());
    assertEquals(0, run("get", "k1", "--endpoints", replica.endpoint(), "--consistency=one"));
    assertEquals("alpha", stdout()); // the bytes, nothing added
    assertEquals(0, run(Map.of("QUORUMKV_ENDPOINTS", replica.endpoint()), Path.of("."), "get", "k1"));
    assertEquals("alpha", stdout());
    NodeAddress address = NodeAddress.parse(replica.endpoint());
    assertEquals(0, run(Map.of("PEER_DB1_HOST", address.host(), "PEER_DB1_PORT", Integer.toString(address.port())),
        Path.of("."), "get", "k1"));
    assertEquals(0, run("delete", "k1", "--node", replica.endpoint()));
    assertEquals("deleted version v2\n", stdout());
    assertEquals(ExitStatus.NOT_FOUND, run("get", "k1", "--endpoints", replica.endpoint()));
    assertEquals("", stdout());
    assertTrue(stderr(), stderr().contains("not found"));
  }

  @Test
  public void putWithTtlSendsMillisecondsAndPrintsTheExpiryUntilAPutWithoutOne() throws Exception {
    StubReplica replica = stub();
    String endpoint = replica.endpoint();
    assertEquals(0, run("put", "session", "s1", "--ttl", "30s", "--consistency", "all", "--endpoints", endpoint));
    assertEquals("consistency=all&ttl=30000ms", replica.lastKeyQuery());
    assertEquals("ok version v1 expires at 2026-12-07T23:00:30Z\n", stdout());
    assertEquals("", stderr());
    assertEquals(0, run("put", "session", "s2", "--ttl=1500ms", "--if-match", "v1", "-w", "json",
        "--endpoints", endpoint));
    assertEquals("consistency=quorum&ttl=1500ms", replica.lastKeyQuery());
    assertEquals("2026-12-07T23:00:01.500Z", json().get("expiresAt").asText());
    assertEquals("v2", json().get("version").asText());
    assertEquals(0, run("put", "cache", "c", "--ttl", "7d", "--if-absent", "--endpoints", endpoint));
    assertEquals("ok version v3 expires at 2026-12-14T23:00:00Z\n", stdout());

    assertEquals(0, run("get", "session", "-w", "json", "--endpoints", endpoint));
    assertEquals("2026-12-07T23:00:01.500Z", json().get("expiresAt").asText());
    assertEquals(0, run("get", "session", "--endpoints", endpoint));
    assertEquals("s2", stdout()); // the bytes, nothing added: text output has no room for the expiry
    assertEquals(0, run("list", "-w", "json", "--endpoints", endpoint));
    assertEquals("2026-12-14T23:00:00Z", json().get("items").get(0).get("expiresAt").asText());
    assertEquals("2026-12-07T23:00:01.500Z", json().get("items").get(1).get("expiresAt").asText());

    assertEquals(0, run("put", "session", "s3", "--endpoints", endpoint));
    assertEquals("consistency=quorum", replica.lastKeyQuery());
    assertEquals("ok version v4\n", stdout());
    assertEquals(0, run("get", "session", "-w", "json", "--endpoints", endpoint));
    assertFalse(json().toString(), json().has("expiresAt"));
  }

  @Test
  public void aTtlOutsideOneSecondToTenYearsExits2WithoutARequest() throws Exception {
    StubReplica replica = stub();
    Map<String, String> reasons = Map.of(
        "soon", "not a duration", "0s", "a duration must be positive",
        "999ms", "kv: --ttl: a TTL is 1 s to 10 years, not 999 ms",
        "3653d", "not 315619200000 ms", "4018d", "not 347155200000 ms"); // ten years are 3,652.5 days
    reasons.forEach((ttl, reason) -> {
      assertEquals(ttl, ExitStatus.USAGE, run("put", "k", "v", "--ttl", ttl, "--endpoints", replica.endpoint()));
      assertTrue(ttl + ": " + stderr(), stderr().contains("--ttl") && stderr().contains(reason));
    });
    assertEquals(0, replica.kvRequests());
    assertEquals(0, run("put", "k", "v", "--ttl", "3652d", "--endpoints", replica.endpoint()));
    assertEquals("consistency=quorum&ttl=315532800000ms", replica.lastKeyQuery());
  }

  @Test
  public void aTtlRefusedUntilEveryReplicaSupportsItExits1AsNotApplied() throws Exception {
    StubReplica replica = stub();
    replica.answerNextKvRequest(503,
        "{\"error\":\"ttl not available until every replica runs a build that supports it\",\"outcome\":\"not-applied\"}");
    assertEquals(ExitStatus.ERROR,
        run("put", "k", "v", "--ttl", "30s", "-w", "json", "--endpoints", replica.endpoint()));
    assertEquals("error", json().get("outcome").asText());
    assertTrue(stderr(), stderr().contains("ttl not available until every replica runs a build that supports it"));
    assertEquals(null, replica.stored("k"));
  }

  @Test
  public void aPutWithTtlAnsweredWithoutAnExpiryWarnsThatTheKeyIsPermanent() throws Exception {
    StubReplica replica = stub();
    replica.answerNextKvRequest(200, "{\"key\":\"k\",\"version\":\"v9\"}"); // as a build before TTLs answers
    assertEquals(0, run("put", "k", "v", "--ttl", "30s", "--endpoints", replica.endpoint()));
    assertEquals("ok version v9\n", stdout());
    assertTrue(stderr(), stderr().contains("kv: put k: the replica answered without an expiry"));
  }

  @Test
  public void listFollowsEveryPageInOrderAndStopsAtTheLimit() throws Exception {
    StubReplica replica = stub();
    for (String key : List.of("k3", "k1", "k2", "j1", "k4", "k5")) {
      assertEquals(0, run("put", key, "v-" + key, "--endpoints", replica.endpoint()));
    }
    assertEquals(0, run("list", "--prefix", "k", "--endpoints", replica.endpoint()));
    assertEquals("k1\nk2\nk3\nk4\nk5\n", stdout()); // three pages of the stub's two
    assertEquals(0, run("list", "--prefix=k", "--values", "-n", "3", "--endpoints", replica.endpoint()));
    assertEquals("k1=v-k1\nk2=v-k2\nk3=v-k3\n", stdout());
    assertEquals(0, run("list", "--values", "-w", "json", "--endpoints", replica.endpoint()));
    JsonNode json = new ObjectMapper().readTree(stdout());
    assertEquals(6, json.get("items").size());
    assertEquals("j1", json.get("items").get(0).get("key").asText());
    assertEquals("v-j1", new String(java.util.Base64.getDecoder().decode(
        json.get("items").get(0).get("valueBase64").asText()), java.nio.charset.StandardCharsets.UTF_8));
    assertEquals(ExitStatus.USAGE, run("list", "-n", "0", "--endpoints", replica.endpoint()));
  }

  @Test
  public void binaryValuesThroughStandardInputAFileAndOutputFile() throws Exception {
    StubReplica replica = stub();
    byte[] binary = new byte[256];
    for (int i = 0; i < binary.length; i++) {
      binary[i] = (byte) i;
    }
    stdin = binary;
    assertEquals(0, run("put", "bin", "-", "--endpoints", replica.endpoint()));
    assertArrayEquals(binary, replica.stored("bin"));
    assertEquals(0, run("get", "bin", "--endpoints", replica.endpoint()));
    assertArrayEquals(binary, out.toByteArray());
    Path file = Files.createTempFile("kv-value", ".bin");
    assertEquals(0, run("get", "bin", "-o", file.toString(), "--endpoints", replica.endpoint()));
    assertArrayEquals(binary, Files.readAllBytes(file));
    assertEquals("", stdout());
    Files.write(file, new byte[] {0, -1, 10});
    assertEquals(0, run("put", "fromfile", "--file", file.toString(), "--endpoints", replica.endpoint()));
    assertArrayEquals(new byte[] {0, -1, 10}, replica.stored("fromfile"));
    Files.delete(file);
  }

  @Test
  public void jsonOutputCarriesKeyVersionBase64ValueAndOutcome() throws Exception {
    StubReplica replica = stub();
    stdin = new byte[] {1, 2, 3};
    assertEquals(0, run("put", "k", "-", "-w", "json", "--endpoints", replica.endpoint()));
    assertEquals("ok", json().get("outcome").asText());
    assertEquals("v1", json().get("version").asText());
    assertEquals(0, run("get", "k", "-w", "json", "--endpoints", replica.endpoint()));
    assertArrayEquals(new byte[] {1, 2, 3}, Base64.getDecoder().decode(json().get("value").asText()));
    assertEquals("k", json().get("key").asText());
    assertEquals(replica.endpoint(), json().get("endpoint").asText());
    assertEquals(0, run("delete", "k", "--write-out", "json", "--endpoints", replica.endpoint()));
    assertEquals("deleted", json().get("outcome").asText());
    assertEquals(ExitStatus.NOT_FOUND, run("get", "k", "-w", "json", "--endpoints", replica.endpoint()));
    assertEquals("not-found", json().get("outcome").asText());
  }

  @Test
  public void anIndeterminateWriteExits3AndIsNotSentElsewhere() throws Exception {
    StubReplica first = stub();
    StubReplica second = stub();
    first.answerNextKvRequest(503, "{\"error\":\"write quorum not reached\",\"phase\":\"apply\",\"outcome\":\"indeterminate\"}");
    assertEquals(ExitStatus.INDETERMINATE,
        run("put", "k", "v", "-w", "json", "--endpoints", first.endpoint() + "," + second.endpoint()));
    assertEquals("indeterminate", json().get("outcome").asText());
    assertTrue(stderr(), stderr().contains("outcome unknown"));
    assertEquals(0, second.kvRequests());
  }

  @Test
  public void aWriteNotAppliedFailsOverToTheNextEndpoint() throws Exception {
    StubReplica first = stub();
    StubReplica second = stub();
    first.answerNextKvRequest(503, "{\"error\":\"overloaded\",\"outcome\":\"not-applied\"}");
    assertEquals(0, run("put", "k", "v", "-w", "json", "--endpoints", first.endpoint() + "," + second.endpoint()));
    assertEquals(second.endpoint(), json().get("endpoint").asText());
    assertArrayEquals("v".getBytes(StandardCharsets.UTF_8), second.stored("k"));
    // The last endpoint's not-applied refusal is the answer: exit 1, certainly not applied.
    second.answerNextKvRequest(503, "{\"error\":\"clock fenced\",\"outcome\":\"not-applied\"}");
    assertEquals(ExitStatus.ERROR, run("put", "k", "w", "--endpoints", second.endpoint()));
  }

  @Test
  public void failoverPastADownFirstEndpointForReadsAndWrites() throws Exception {
    StubReplica replica = stub();
    String endpoints = downEndpoint() + "," + replica.endpoint();
    assertEquals(0, run("put", "k", "v", "-w", "json", "--endpoints", endpoints));
    assertEquals(replica.endpoint(), json().get("endpoint").asText());
    assertEquals(0, run("get", "k", "--endpoints", endpoints));
    assertEquals("v", stdout());
    assertEquals(ExitStatus.ERROR, run("get", "k", "--endpoints", downEndpoint()));
    assertTrue(stderr(), stderr().contains("cannot reach"));
  }

  @Test
  public void refusalsAreNotRetriedElsewhere() throws Exception {
    StubReplica first = stub();
    StubReplica second = stub();
    String endpoints = first.endpoint() + "," + second.endpoint();
    first.answerNextKvRequest(400, "{\"error\":\"the key is too long\"}");
    assertEquals(ExitStatus.ERROR, run("put", "k", "v", "--endpoints", endpoints));
    assertTrue(stderr(), stderr().contains("the key is too long"));
    first.answerNextKvRequest(412, "{\"error\":\"precondition failed\"}");
    assertEquals(ExitStatus.PRECONDITION_FAILED, run("put", "k", "v", "--endpoints", endpoints));
    assertEquals(0, second.kvRequests());
  }

  @Test
  public void healthStatusAndVersionAskEveryEndpoint() throws Exception {
    StubReplica ready = stub();
    StubReplica notReady = stub();
    notReady.notReady();
    assertEquals(0, run("health", "--endpoints", ready.endpoint()));
    assertTrue(stdout(), stdout().matches("(?s).*" + ready.endpoint() + " +ready\n.*"));
    String down = downEndpoint();
    String all = ready.endpoint() + "," + notReady.endpoint() + "," + down;
    assertEquals(ExitStatus.ERROR, run("health", "--endpoints", all));
    assertTrue(stdout(), stdout().matches("(?s).*" + notReady.endpoint() + " +not-ready +incarnation unproven: test\n.*")
        && stdout().matches("(?s).*" + down + " +unreachable +cannot reach.*"));
    assertEquals(ExitStatus.ERROR, run("health", "-w", "json", "--endpoints", all));
    assertEquals(3, json().size());
    assertEquals("ready", json().get(0).get("health").asText());

    assertEquals(0, run("status", "--endpoints", ready.endpoint() + "," + notReady.endpoint()));
    String table = stdout();
    assertTrue(table, table.startsWith("ENDPOINT") && table.contains("HINTS-PENDING"));
    assertTrue(table, table.contains("stub") && table.contains("-7ms") && table.contains("2.0 KiB")
        && table.contains("9.9.9 (abc1234)") && table.contains("not-ready"));
    assertEquals(0, run("status", "-w", "json", "--endpoints", ready.endpoint()));
    assertEquals(5, json().get(0).get("hintsPending").asLong());
    assertEquals("2026-01-01T00:00:00Z", json().get(0).get("lastAntiEntropy").asText());
    assertEquals(ExitStatus.ERROR, run("status", "--endpoints", down));
    assertTrue(stdout(), stdout().contains("unreachable"));

    assertEquals(0, run("version", "--endpoints", ready.endpoint()));
    assertTrue(stdout(), stdout().contains("quorumkv-client") && stdout().contains("quorumkv 9.9.9 (commit abc1234, wire v2)"));
    assertEquals(0, run("version"));
    assertTrue(stdout(), stdout().contains("client"));
  }

  @Test
  public void snapshotAsksEveryEndpointWithTheClusterSecret() throws Exception {
    StubReplica first = stub();
    StubReplica second = stub();
    String endpoints = first.endpoint() + "," + second.endpoint();
    assertEquals(0, run(Map.of("QUORUMKV_CLUSTER_SECRET", "s3cret"), Path.of("."),
        "snapshot", "--name", "nightly", "--endpoints", endpoints));
    assertTrue(stdout(), stdout().matches("(?s).*" + second.endpoint() + " +nightly +/srv/snapshots/nightly +3.0 MiB\n.*"));
    assertEquals(0, run("snapshot", "--cluster-secret=s3cret", "-w", "json", "--endpoints", endpoints));
    assertEquals("stub-default", json().get(0).get("name").asText());
    assertEquals(ExitStatus.ERROR, run("snapshot", "--endpoints", endpoints + "," + downEndpoint()));
    assertTrue(stdout(), stdout().contains("403: the cluster secret is missing or wrong") && stdout().contains("unreachable"));
  }

  @Test
  public void benchWritesItsResultsAsJsonWithWJson() throws Exception {
    StubReplica replica = stub();
    assertEquals(0, run("bench", "--nodes=" + replica.endpoint(), "--ops", "40", "--concurrency", "2",
        "--mix", "read=50,write=50", "--keys", "10", "-w", "json"));
    JsonNode results = json();
    assertTrue(results.toString(), results.has("options") && results.path("read").path("count").asLong(0)
        + results.path("write").path("count").asLong(0) >= 40);
    assertTrue(stderr(), stderr().startsWith("bench: 1 nodes"));
  }

  @Test
  public void tortureGivesItsVerdictAsJsonWithWJson() throws Exception {
    Path history = Files.createTempFile("kv-history", ".jsonl"); // no operations: trivially linearizable
    assertEquals(0, run("torture", "--check=" + history, "-w", "json"));
    assertEquals("linearizable", json().get("verdict").asText());
    assertTrue(json().get("linearizable").asBoolean());
    assertTrue(stderr(), stderr().contains("torture: checking 0 operations"));
    Files.delete(history);
  }

  @Test
  public void aTokenIsSentAsBearerFromTheOptionOrTheEnvironment() throws Exception {
    StubReplica replica = stub();
    assertEquals(0, run("put", "k", "v", "--token", "opt-token-0123456789", "--endpoints", replica.endpoint()));
    assertEquals("Bearer opt-token-0123456789", replica.lastAuthorization());
    assertEquals(0, run(Map.of("QUORUMKV_TOKEN", "env-token-0123456789"), Path.of("."), "status",
        "--endpoints", replica.endpoint()));
    assertEquals("Bearer env-token-0123456789", replica.lastAuthorization());
    assertEquals(0, run("get", "k", "--endpoints", replica.endpoint()));
    assertEquals(null, replica.lastAuthorization());
    assertEquals(0, run(Map.of("QUORUMKV_TOKEN", "bench-token-0123456789"), Path.of("."), "bench",
        "--nodes", replica.endpoint(), "--ops", "4", "--concurrency", "1", "--mix", "write=100", "--keys", "2"));
    assertEquals("Bearer bench-token-0123456789", replica.lastAuthorization());
  }

  @Test
  public void scenarioWithoutPeerVariablesFailsWithOneLine() throws Exception {
    Path directory = Files.createTempDirectory("scenario");
    assertEquals(ExitStatus.ERROR, run(Map.of(), directory));
    assertTrue(stderr(), stderr().contains("PEER_PEER0_HOST and PEER_PEER0_PORT must be set"));
    assertEquals(1, stderr().strip().lines().count());
    assertTrue("no result.txt without a successful scenario", Files.notExists(directory.resolve("result.txt")));
  }

  @Test
  public void scenarioGivesUpAfterItsWaitWhenNoReplicaAnswers() throws Exception {
    Path directory = Files.createTempDirectory("scenario");
    Map<String, String> nowhere = Map.of(
        "PEER_PEER0_HOST", "127.0.0.1", "PEER_PEER0_PORT", "1",
        "PEER_PEER1_HOST", "127.0.0.1", "PEER_PEER1_PORT", "1",
        "PEER_PEER2_HOST", "127.0.0.1", "PEER_PEER2_PORT", "1");
    assertEquals(ExitStatus.ERROR, run(nowhere, directory, "--wait", "1s"));
    assertTrue(stderr(), stderr().contains("PUT k1 via 127.0.0.1:1 failed: cannot reach"));
    assertTrue(Files.notExists(directory.resolve("result.txt")));
  }

  @Test
  public void nodeAddressesParseAndComplain() {
    assertEquals(new NodeAddress("::1", 7000), NodeAddress.parse("::1:7000"));
    assertThrows(IllegalArgumentException.class, () -> NodeAddress.parse("host:"));
    assertThrows(IllegalArgumentException.class, () -> NodeAddress.parse("host:99999"));
    assertEquals(new NodeAddress("h", 7002),
        NodeAddress.fromEnvironment(Map.of("PEER_PEER2_HOST", "h", "PEER_PEER2_PORT", "7002"), "peer2"));
  }
}

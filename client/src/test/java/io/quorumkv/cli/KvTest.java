package io.quorumkv.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/** Goal: the launcher's command line, its exit statuses and its one-line reasons. */
public class ClientMainTest {

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(Map<String, String> environment, Path directory, String... args) {
    return ClientMain.run(args, environment, directory,
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String stderr() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  public void parsesCommandsAndOptions() {
    ClientMain.Options options = ClientMain.Options.parse(
        new String[] {"put", "k", "v", "--node", "db1:7001", "--consistency", "ALL", "--timeout", "500ms"});
    assertEquals(List.of("put", "k", "v"), options.command());
    assertEquals(new NodeAddress("db1", 7001), options.node().orElseThrow());
    assertEquals(Consistency.ALL, options.consistency());
    assertEquals(Duration.ofMillis(500), options.timeout());
    assertTrue(ClientMain.Options.parse(new String[0]).command().isEmpty());
  }

  @Test
  public void badUsageExits2WithAReason() {
    for (String[] args : List.of(
        new String[] {"put", "k"}, new String[] {"frobnicate"}, new String[] {"get", "k", "--node"},
        new String[] {"get", "k", "--node", "nocolon"}, new String[] {"get", "k", "--consistency", "most"},
        new String[] {"get", "k", "--timeout", "soon"}, new String[] {"get", "k", "--colour", "red"})) {
      err.reset();
      assertEquals(String.join(" ", args), ClientMain.EXIT_USAGE, run(Map.of(), Path.of("."), args));
      assertTrue(stderr(), stderr().startsWith("quorumkv-client: "));
    }
  }

  @Test
  public void commandWithoutNodeOrPeerVariablesExits2() {
    assertEquals(ClientMain.EXIT_USAGE, run(Map.of(), Path.of("."), "get", "k"));
    assertTrue(stderr(), stderr().contains("PEER_PEER0_HOST"));
  }

  @Test
  public void scenarioWithoutPeerVariablesFailsWithOneLine() throws Exception {
    Path directory = Files.createTempDirectory("scenario");
    assertEquals(ClientMain.EXIT_FAILED, run(Map.of(), directory));
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
    assertEquals(ClientMain.EXIT_FAILED, run(nowhere, directory, "--wait", "1s"));
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

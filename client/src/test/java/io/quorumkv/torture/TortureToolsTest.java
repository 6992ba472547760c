package io.quorumkv.torture;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.quorumkv.torture.Nemesis.Fault;
import io.quorumkv.torture.Operation.Kind;
import io.quorumkv.torture.Operation.Outcome;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.Test;

public class TortureToolsTest {

  @Test
  public void historyFileRoundTripsEveryField() throws IOException {
    List<Operation> history = List.of(
        new Operation(3, "k1", Kind.WRITE, "w17", 5, 9, Outcome.OK),
        new Operation(2, "k1", Kind.WRITE, null, 6, 10, Outcome.UNKNOWN),
        new Operation(Operation.FINAL_READER, "k1", Kind.READ, null, 11, 12, Outcome.OK),
        new Operation(1, "k2", Kind.READ, "x", 1, 2, Outcome.FAIL));
    Path file = Files.createTempFile("history", ".jsonl");
    try {
      HistoryFile.write(file, history);
      assertEquals(history, HistoryFile.read(file));
      assertEquals("{\"client\":3,\"key\":\"k1\",\"op\":\"write\",\"value\":\"w17\",\"invokeNanos\":5,"
          + "\"completeNanos\":9,\"outcome\":\"ok\"}", Files.readAllLines(file).get(0));
    } finally {
      Files.delete(file);
    }
  }

  @Test
  public void malformedHistoryLineIsNamed() throws IOException {
    Path file = Files.createTempFile("history", ".jsonl");
    try {
      Files.writeString(file, "{\"client\":1,\"key\":\"k\",\"op\":\"write\",\"invokeNanos\":1,\"completeNanos\":2,"
          + "\"outcome\":\"ok\"}\n{\"client\":1,\"key\":\"k\",\"op\":\"erase\",\"invokeNanos\":1,\"completeNanos\":2,"
          + "\"outcome\":\"ok\"}\n");
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HistoryFile.read(file));
      assertTrue(e.getMessage(), e.getMessage().contains("line 2"));
    } finally {
      Files.delete(file);
    }
  }

  @Test
  public void writeOutcomeIsFailOnlyWhenNothingCanHaveBeenApplied() {
    assertEquals(Outcome.OK, Workload.writeOutcome(200, bytes("{\"key\":\"k\"}")));
    assertEquals(Outcome.FAIL, Workload.writeOutcome(400, bytes("{\"error\":\"bad\"}")));
    assertEquals(Outcome.FAIL, Workload.writeOutcome(503, bytes("{\"error\":\"write quorum not reached\","
        + "\"phase\":\"version-query\",\"outcome\":\"not-applied\"}")));
    assertEquals(Outcome.UNKNOWN, Workload.writeOutcome(503, bytes("{\"error\":\"write quorum not reached\","
        + "\"phase\":\"apply\",\"outcome\":\"indeterminate\"}")));
    assertEquals(Outcome.UNKNOWN, Workload.writeOutcome(503, bytes("{\"error\":\"overloaded\"}")));
    assertEquals(Outcome.UNKNOWN, Workload.writeOutcome(500, bytes("not json")));
  }

  @Test
  public void checkingASavedNonLinearizableHistoryExitsOneWithTheVerdictLast() throws IOException {
    Path file = Files.createTempFile("history", ".jsonl");
    try {
      HistoryFile.write(file, List.of(
          new Operation(1, "k", Kind.WRITE, "a", 0, 10, Outcome.OK),
          new Operation(2, "k", Kind.WRITE, "b", 20, 30, Outcome.OK),
          new Operation(Operation.FINAL_READER, "k", Kind.READ, "a", 40, 50, Outcome.OK)));
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      int status = Torture.run(List.of("--check", file.toString()), new java.io.PrintStream(out, true),
          new java.io.PrintStream(new java.io.ByteArrayOutputStream(), true));
      String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
      assertEquals(Torture.EXIT_NOT_LINEARIZABLE, status);
      assertTrue(lines[lines.length - 1], lines[lines.length - 1].startsWith("NOT linearizable (key k"));
    } finally {
      Files.delete(file);
    }
  }

  @Test
  public void faultListsParse() {
    assertEquals(EnumSet.allOf(Fault.class), Fault.parseList("all"));
    assertEquals(EnumSet.noneOf(Fault.class), Fault.parseList("none"));
    assertEquals(EnumSet.of(Fault.KILL, Fault.LONG_PAUSE), Fault.parseList("kill, long-pause"));
    assertThrows(IllegalArgumentException.class, () -> Fault.parseList("kill,meteor"));
  }

  @Test
  public void optionsParseAndBadOnesAreRefused() {
    Torture.Options options = Torture.parse(List.of("--duration", "20s", "--faults", "kill,pause", "--clients", "4",
        "--consistency", "one", "--seed", "7", "--replica-jar", "r.jar"));
    assertEquals(Duration.ofSeconds(20), options.duration());
    assertEquals(Set.of(Fault.KILL, Fault.PAUSE), options.faults());
    assertEquals(4, options.clients());
    assertEquals("one", options.consistency());
    assertEquals(7L, options.seed());
    assertEquals(Path.of("r.jar"), options.replicaJar());
    assertThrows(IllegalArgumentException.class, () -> Torture.parse(List.of("--clients", "0")));
    assertThrows(IllegalArgumentException.class, () -> Torture.parse(List.of("--consistency", "all")));
    assertThrows(IllegalArgumentException.class, () -> Torture.parse(List.of("--duration")));
    assertThrows(IllegalArgumentException.class, () -> Torture.parse(List.of("--frobnicate", "1")));
  }

  @Test
  public void proxyPassesDropsByCauseAndCuts() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", exchange -> {
      byte[] body = exchange.getRequestBody().readAllBytes();
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    try (FaultProxy proxy = new FaultProxy()) {
      proxy.forwardTo(server.getAddress().getPort());
      String base = "http://127.0.0.1:" + proxy.port() + "/internal/v2/call?cause=";
      assertEquals("hello", post(http, base + "hint", "hello"));

      proxy.dropCauses(Set.of("hint"));
      assertThrows(IOException.class, () -> post(http, base + "hint", "dropped"));
      assertEquals("passes", post(http, base + "write", "passes"));
      assertEquals(Map.of("hint", 1L), proxy.droppedByCause());

      proxy.cut();
      assertThrows(IOException.class, () -> post(http, base + "write", "cut"));
      proxy.heal();
      assertEquals("back", post(http, base + "hint", "back"));
    } finally {
      server.stop(0);
    }
  }

  private static String post(HttpClient http, String uri, String body) throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(5))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    return http.send(request, HttpResponse.BodyHandlers.ofString()).body();
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}

package io.quorumkv.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * {@code kv status}: one row per endpoint, from its {@code /cluster}, {@code /version} and
 * {@code /health/ready}. What an operator checks between two steps of a rolling restart: every
 * replica ready and no hints pending (docs/operating.md, "Rolling restart").
 */
@Command(name = "status", mixinStandardHelpOptions = true, versionProvider = ClientVersion.class, sortOptions = false,
    description = {"A table of every endpoint: reachable and ready, incarnation, the largest clock offset it",
        "measured to a peer, hints pending for its peers, its last anti-entropy round, data size and version.",
        "Exit 0 when every endpoint answered, else 1."})
final class StatusCommand extends ReplicaCommand implements Callable<Integer> {

  private static final String CLUSTER = "/cluster";
  private static final String VERSION = "/version";
  private static final String READY = "/health/ready";

  @Override
  public Integer call() {
    List<Survey.Reply> replies = survey(List.of(CLUSTER, VERSION, READY));
    List<List<String>> rows = new ArrayList<>(List.of(List.of(
        "ENDPOINT", "NODE", "STATE", "INCARNATION", "CLOCK-OFFSET", "HINTS-PENDING", "ANTI-ENTROPY", "DATA", "VERSION")));
    List<Map<String, Object>> objects = new ArrayList<>();
    boolean allReachable = true;
    for (Survey.Reply reply : replies) {
      if (!reply.reachable()) {
        allReachable = false;
        rows.add(List.of(reply.endpoint().toString(), "-", "unreachable", "-", "-", "-", "-", "-", "-"));
        objects.add(Output.object("endpoint", reply.endpoint().toString(), "reachable", false, "error", reply.error()));
        continue;
      }
      Row row = Row.of(reply.answers().get(CLUSTER).body(), reply.answers().get(VERSION).body(),
          reply.answers().get(READY).status() == 200);
      rows.add(List.of(reply.endpoint().toString(), row.node(), row.ready() ? "ready" : "not-ready", row.incarnation(),
          row.clockOffsetMillis() == null ? "-" : row.clockOffsetMillis() + "ms", Long.toString(row.hintsPending()),
          row.lastAntiEntropy() == null ? "never" : ago(row.lastAntiEntropy()), bytes(row.dataBytes()), row.version()));
      objects.add(Output.object("endpoint", reply.endpoint().toString(), "reachable", true, "node", row.node(),
          "ready", row.ready(), "incarnation", row.incarnation(), "clockOffsetMillis", row.clockOffsetMillis(),
          "hintsPending", row.hintsPending(), "lastAntiEntropy", row.lastAntiEntropy(), "dataBytes", row.dataBytes(),
          "version", row.version()));
    }
    kv.out.print(output.json() ? Output.toJson(objects) + "\n" : Survey.table(rows));
    return allReachable ? ExitStatus.OK : ExitStatus.ERROR;
  }

  /**
   * One replica's figures.
   *
   * @param clockOffsetMillis the largest offset (either sign) it measured to a peer recently; null if none
   * @param lastAntiEntropy when its latest anti-entropy round with any peer completed; null if never
   */
  record Row(String node, boolean ready, String incarnation, Long clockOffsetMillis, long hintsPending,
      String lastAntiEntropy, long dataBytes, String version) {

    static Row of(JsonNode cluster, JsonNode version, boolean ready) {
      Long largest = null;
      for (JsonNode offset : cluster.path("clock").path("peerOffsetsMillis")) {
        if (largest == null || Math.abs(offset.asLong()) > Math.abs(largest)) {
          largest = offset.asLong();
        }
      }
      long hints = 0;
      String lastRound = null;
      for (JsonNode peer : cluster.path("peers")) {
        hints += peer.path("hints").path("pending").asLong(0);
        String round = peer.path("antiEntropy").path("lastRound").asText(null);
        if (round != null && (lastRound == null || round.compareTo(lastRound) > 0)) {
          lastRound = round;
        }
      }
      return new Row(cluster.path("node").asText("?"), ready, cluster.path("incarnation").path("state").asText("?"),
          largest, hints, lastRound, cluster.path("storage").path("bytesOnDisk").asLong(0),
          version.path("version").asText("?") + " (" + version.path("commit").asText("?") + ")");
    }
  }

  private static String ago(String instant) {
    try {
      long seconds = Duration.between(Instant.parse(instant), Instant.now()).toSeconds();
      return Math.max(0, seconds) + "s ago";
    } catch (java.time.format.DateTimeParseException e) {
      return instant;
    }
  }

  static String bytes(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = bytes;
    int unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return unit == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
  }
}

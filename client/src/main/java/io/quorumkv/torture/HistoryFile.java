package io.quorumkv.torture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A history on disk: one JSON object per line and operation, e.g.
 * {@code {"client":3,"key":"k1","op":"write","value":"w17","invokeNanos":5,"completeNanos":9,"outcome":"ok"}},
 * so it can be checked again ({@code torture --check FILE}) or by another tool.
 */
public final class HistoryFile {

  private static final ObjectMapper JSON = new ObjectMapper();

  private HistoryFile() {}

  public static void write(Path file, List<Operation> history) throws IOException {
    try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      for (Operation operation : history) {
        out.write(toJson(operation));
        out.newLine();
      }
    }
  }

  public static String toJson(Operation operation) {
    ObjectNode node = JSON.createObjectNode();
    node.put("client", operation.client());
    node.put("key", operation.key());
    node.put("op", operation.kind().label());
    node.put("value", operation.value());
    node.put("invokeNanos", operation.invokeNanos());
    node.put("completeNanos", operation.completeNanos());
    node.put("outcome", operation.outcome().label());
    if (operation.kind() == Operation.Kind.CAS || operation.kind() == Operation.Kind.CAS_REFUSED
        || operation.kind() == Operation.Kind.EXPIRE) {
      node.put("expected", operation.expected());
    }
    return node.toString();
  }

  /** Reads a history; a malformed line is an {@link IllegalArgumentException} naming its line number. */
  public static List<Operation> read(Path file) throws IOException {
    List<Operation> history = new ArrayList<>();
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).trim();
      if (line.isEmpty()) {
        continue;
      }
      try {
        history.add(fromJson(JSON.readTree(line)));
      } catch (IOException | RuntimeException e) {
        throw new IllegalArgumentException(file + " line " + (i + 1) + ": " + e.getMessage(), e);
      }
    }
    return history;
  }

  private static Operation fromJson(JsonNode node) {
    for (String field : List.of("client", "key", "op", "invokeNanos", "completeNanos", "outcome")) {
      if (!node.hasNonNull(field)) {
        throw new IllegalArgumentException("missing field '" + field + "'");
      }
    }
    JsonNode value = node.get("value");
    JsonNode expected = node.get("expected");
    return new Operation(
        node.get("client").asInt(),
        node.get("key").asText(),
        Operation.Kind.parse(node.get("op").asText()),
        value == null || value.isNull() ? null : value.asText(),
        node.get("invokeNanos").asLong(),
        node.get("completeNanos").asLong(),
        Operation.Outcome.parse(node.get("outcome").asText()),
        expected == null || expected.isNull() ? null : expected.asText());
  }
}

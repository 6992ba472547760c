package io.quorumkv.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import picocli.CommandLine.Option;

/** {@code -w text|json}: how a command writes its result. */
final class Output {

  /** The formats; JSON is one object (or array) on one line, for scripts. */
  enum Format { text, json }

  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(names = {"-w", "--write-out"}, paramLabel = "FORMAT", defaultValue = "text",
      description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  Format format;

  boolean json() {
    return format == Format.json;
  }

  static String toJson(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
    }
  }

  /** A JSON object from alternating names and values, in order (nulls kept). */
  static Map<String, Object> object(Object... namesAndValues) {
    Map<String, Object> object = new java.util.LinkedHashMap<>();
    for (int i = 0; i + 1 < namesAndValues.length; i += 2) {
      object.put((String) namesAndValues[i], namesAndValues[i + 1]);
    }
    return object;
  }
}

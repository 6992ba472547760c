package io.quorumkv.cli;

import akka.actor.typed.ActorSystem;
import io.quorumkv.client.KvClient;
import io.quorumkv.client.NodeAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** Asks every endpoint the same read-only JSON questions at once (for status, health and version). */
final class Survey {

  /** One endpoint's answers by path, or why it could not be asked. */
  record Reply(NodeAddress endpoint, Map<String, KvClient.JsonAnswer> answers, String error) {
    boolean reachable() {
      return error == null;
    }
  }

  private Survey() {}

  static List<Reply> ask(
      ActorSystem<?> system, List<NodeAddress> endpoints, Duration timeout, io.quorumkv.client.Credentials credentials,
      List<String> paths) {
    List<CompletableFuture<Reply>> replies = new ArrayList<>();
    for (NodeAddress endpoint : endpoints) {
      KvClient client = new KvClient(system, endpoint, timeout, credentials);
      List<CompletableFuture<KvClient.JsonAnswer>> answers =
          paths.stream().map(path -> client.fetchJson(path).toCompletableFuture()).toList();
      replies.add(CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).handle((done, failure) -> {
        if (failure != null) {
          Throwable cause = failure instanceof CompletionException && failure.getCause() != null
              ? failure.getCause() : failure;
          return new Reply(endpoint, Map.of(), cause.getMessage());
        }
        Map<String, KvClient.JsonAnswer> byPath = new LinkedHashMap<>();
        for (int i = 0; i < paths.size(); i++) {
          byPath.put(paths.get(i), answers.get(i).join());
        }
        return new Reply(endpoint, byPath, null);
      }));
    }
    return replies.stream().map(CompletableFuture::join).toList();
  }

  /** Left-aligned columns, two spaces apart. */
  static String table(List<List<String>> rows) {
    int columns = rows.get(0).size();
    int[] widths = new int[columns];
    for (List<String> row : rows) {
      for (int i = 0; i < columns; i++) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    StringBuilder text = new StringBuilder();
    for (List<String> row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < columns; i++) {
        line.append(i == columns - 1 ? row.get(i) : String.format("%-" + widths[i] + "s  ", row.get(i)));
      }
      text.append(line.toString().stripTrailing()).append('\n');
    }
    return text.toString();
  }
}

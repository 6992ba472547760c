package io.quorumkv.cli;

import io.quorumkv.client.FailoverClient;
import io.quorumkv.client.KvClient;
import io.quorumkv.client.KvException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kv list [--prefix P] [--values] [-n N]}: follows the pages itself. */
@Command(name = "list", mixinStandardHelpOptions = true, versionProvider = ClientVersion.class, sortOptions = false,
    description = {"List the keys under a prefix, in order of their UTF-8 bytes, page after page.",
        "Each key is what a quorum read of it could return while it was listed; the whole is not a snapshot.",
        "Text output: one key per line, or KEY=VALUE (the value as UTF-8) with --values; JSON: base64 values."})
final class ListCommand extends RequestCommand implements Callable<Integer> {

  /** Keys a page asks for at most (the replica's bound). */
  static final int PAGE_MAX = 1000;

  @Option(names = "--prefix", paramLabel = "PREFIX", defaultValue = "",
      description = "Only keys starting with PREFIX (default: every key).")
  String prefix;

  @Option(names = "--values", description = "Print the values too.")
  boolean values;

  @Option(names = {"-n", "--limit"}, paramLabel = "N", description = "At most N keys in all (default: every one).")
  Integer limit;

  @Override
  public Integer call() {
    if (limit != null && limit < 1) {
      throw new UsageException("--limit must be at least 1");
    }
    List<KvClient.Entry> entries = new ArrayList<>();
    // One client session for every page: a session per page would start an actor system each time.
    try (ClientSession session = new ClientSession("quorumkv-client")) {
      FailoverClient client = new FailoverClient(session.system, endpoints.resolve(kv.environment),
          endpoints.timeout, endpoints.credentials(kv.environment));
      Optional<String> start = Optional.of("");
      while (start.isPresent() && (limit == null || entries.size() < limit)) {
        int pageLimit = limit == null ? PAGE_MAX : Math.min(PAGE_MAX, limit - entries.size());
        String from = start.get();
        KvClient.Page page = client.read(replica -> replica.list(prefix, from, pageLimit, values, consistency))
            .toCompletableFuture().join().value();
        for (KvClient.Entry entry : page.entries()) {
          if (limit == null || entries.size() < limit) {
            entries.add(entry);
            if (!output.json()) {
              kv.out.println(values ? entry.key() + "=" + new String(entry.value(), StandardCharsets.UTF_8)
                  : entry.key());
            }
          }
        }
        start = page.next();
      }
    } catch (CompletionException e) {
      if (e.getCause() instanceof KvException failure) {
        return failed("list", prefix, failure, ExitStatus.ofRead(failure));
      }
      throw e;
    }
    if (output.json()) {
      List<Map<String, Object>> items = new ArrayList<>();
      for (KvClient.Entry entry : entries) {
        Map<String, Object> item = Output.object("key", entry.key(), "version", entry.version());
        entry.expiresAt().ifPresent(expiresAt -> item.put("expiresAt", expiresAt.toString()));
        if (values) {
          item.put("valueBase64", Base64.getEncoder().encodeToString(entry.value()));
        }
        items.add(item);
      }
      kv.out.println(Output.toJson(Output.object("prefix", prefix, "items", items, "outcome", "ok")));
    }
    kv.out.flush();
    return ExitStatus.OK;
  }
}

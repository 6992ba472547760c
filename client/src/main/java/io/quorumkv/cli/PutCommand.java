package io.quorumkv.cli;

import io.quorumkv.client.FailoverClient;
import io.quorumkv.client.KvClient;
import io.quorumkv.client.KvException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kv put KEY VALUE | KEY - | KEY --file FILE}, optionally {@code --ttl DURATION}. */
@Command(name = "put", mixinStandardHelpOptions = true, versionProvider = ClientVersion.class, sortOptions = false,
    description = {"Write a value. Acknowledged once a write quorum holds it.",
        "The value is the argument, standard input (VALUE '-'), or a file (--file): any bytes."})
final class PutCommand extends RequestCommand implements Callable<Integer> {

  /**
   * The largest value read from standard input or a file; a replica refuses more than its
   * limits.value-bytes-max (1 MiB by default) anyway, and this keeps the client's memory bounded.
   */
  static final int VALUE_BYTES_MAX = 16 << 20;

  @Parameters(index = "0", paramLabel = "KEY")
  String key;

  @Parameters(index = "1", arity = "0..1", paramLabel = "VALUE", description = "The value as UTF-8; - reads standard input.")
  String value;

  @Option(names = "--file", paramLabel = "FILE", description = "Read the value from FILE.")
  Path file;

  @Option(names = "--if-match", paramLabel = "VERSION",
      description = "Write only if the key's current version is VERSION (as get prints it); else exit status 5.")
  String ifMatch;

  @Option(names = "--if-absent", description = "Write only if the key is absent or deleted; else exit status 5.")
  boolean ifAbsent;

  @Option(names = "--ttl", paramLabel = "DURATION",
      description = "Expire the key DURATION after this write (1s to 10 years: 30s, 2h, 7d); without it, "
          + "the key is permanent.")
  Duration ttl;

  @Override
  public Integer call() throws IOException {
    byte[] bytes = value();
    if (ifMatch != null && ifAbsent) {
      throw new UsageException("--if-match and --if-absent cannot be combined");
    }
    if (ttl != null) {
      try {
        KvClient.checkTtl(ttl);
      } catch (IllegalArgumentException e) {
        throw new UsageException("--ttl: " + e.getMessage());
      }
    }
    try {
      FailoverClient.Answered<KvClient.Written> written =
          send(client -> client.write(replica -> write(replica, bytes)));
      print(written);
      return ExitStatus.OK;
    } catch (KvException failure) {
      return failed("put", key, failure, ExitStatus.ofWrite(failure));
    }
  }

  private CompletionStage<KvClient.Written> write(KvClient replica, byte[] bytes) {
    if (ttl == null) {
      return ifMatch != null ? replica.compareAndSet(key, bytes, ifMatch, consistency)
          : ifAbsent ? replica.putIfAbsent(key, bytes, consistency)
          : replica.put(key, bytes, consistency);
    }
    return ifMatch != null ? replica.compareAndSet(key, bytes, ifMatch, ttl, consistency)
        : ifAbsent ? replica.putIfAbsent(key, bytes, ttl, consistency)
        : replica.put(key, bytes, ttl, consistency);
  }

  private void print(FailoverClient.Answered<KvClient.Written> written) {
    if (ttl != null && written.value().expiresAt().isEmpty()) {
      // A replica of a build before TTLs ignores the parameter: the write succeeded, without expiry.
      kv.err.println("kv: put " + key + ": the replica answered without an expiry (a build before TTLs?):"
          + " the key was written without one");
    }
    if (output.json()) {
      Map<String, Object> body = Output.object("key", key, "version", written.value().version());
      written.value().expiresAt().ifPresent(expiresAt -> body.put("expiresAt", expiresAt.toString()));
      body.put("outcome", "ok");
      body.put("endpoint", written.endpoint().toString());
      kv.out.println(Output.toJson(body));
    } else {
      kv.out.println("ok version " + written.value().version()
          + written.value().expiresAt().map(expiresAt -> " expires at " + expiresAt).orElse(""));
    }
  }

  private byte[] value() throws IOException {
    if ((value == null) == (file == null)) {
      throw new UsageException("put takes the value as an argument, '-' for standard input, or --file FILE: one of them");
    }
    if (file != null) {
      if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
        throw new UsageException("--file " + file + " is not a readable file");
      }
      if (Files.size(file) > VALUE_BYTES_MAX) {
        throw new UsageException(file + " is larger than " + VALUE_BYTES_MAX + " bytes");
      }
      return Files.readAllBytes(file);
    }
    return value.equals("-") ? readBounded(kv.in) : value.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] readBounded(InputStream in) throws IOException {
    byte[] bytes = in.readNBytes(VALUE_BYTES_MAX + 1);
    if (bytes.length > VALUE_BYTES_MAX) {
      throw new UsageException("standard input holds more than " + VALUE_BYTES_MAX + " bytes");
    }
    return bytes;
  }
}

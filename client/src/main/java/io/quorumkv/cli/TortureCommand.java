package io.quorumkv.cli;

import io.quorumkv.torture.Torture;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Unmatched;

/** {@code kv torture}: faults injected into a local cluster, the history checked for linearizability (docs/testing.md). */
@Command(name = "torture", mixinStandardHelpOptions = true, versionProvider = ClientVersion.class,
    description = {"Runs a local cluster under injected faults and checks the history for linearizability.",
        "Exit 0 linearizable, 1 not (or the run failed), 2 bad usage."})
final class TortureCommand implements Callable<Integer> {

  /** The report of one run is a few hundred lines at most; a run that prints more is cut here. */
  private static final int REPORT_BYTES_MAX = 1 << 20;

  @ParentCommand
  Kv kv;

  @Mixin
  Output output;

  @Unmatched
  List<String> args;

  @Override
  public Integer call() {
    if (!output.json()) {
      return Torture.run(PassThrough.split(args), kv.out, kv.err);
    }
    // -w json: the report goes to stderr as it is written, and one JSON object to stdout at the end.
    ByteArrayOutputStream report = new ByteArrayOutputStream();
    PrintStream tee = new PrintStream(new OutputStream() {
      @Override
      public void write(int b) {
        kv.err.write(b);
        if (report.size() < REPORT_BYTES_MAX) {
          report.write(b);
        }
      }

      @Override
      public void write(byte[] bytes, int offset, int length) {
        kv.err.write(bytes, offset, length);
        report.write(bytes, offset, Math.max(0, Math.min(length, REPORT_BYTES_MAX - report.size())));
      }
    }, true, StandardCharsets.UTF_8);
    int status = Torture.run(PassThrough.split(args), tee, kv.err);
    List<String> lines = report.toString(StandardCharsets.UTF_8).lines().toList();
    String verdict = lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    int summary = lines.indexOf("summary:");
    List<String> summaryLines = summary < 0 ? List.of()
        : lines.subList(summary + 1, lines.size()).stream().takeWhile(line -> line.startsWith("  "))
            .map(String::strip).toList();
    kv.out.println(Output.toJson(Output.object("verdict", verdict, "linearizable", status == 0,
        "exitStatus", status, "summary", summaryLines)));
    return status;
  }
}

package io.quorumkv.cli;

import io.quorumkv.torture.Torture;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Unmatched;

/** {@code kv torture}: faults injected into a local cluster, the history checked for linearizability (docs/testing.md). */
@Command(name = "torture", mixinStandardHelpOptions = true, versionProvider = ClientVersion.class,
    description = {"Runs a local cluster under injected faults and checks the history for linearizability.",
        "Exit 0 linearizable, 1 not (or the run failed), 2 bad usage."})
final class TortureCommand implements Callable<Integer> {

  @ParentCommand
  Kv kv;

  @Unmatched
  List<String> args;

  @Override
  public Integer call() {
    return Torture.run(PassThrough.split(args), kv.out, kv.err);
  }
}

package io.quorumkv.cli;

import io.quorumkv.client.KvException;

/**
 * The CLI's exit statuses (docs/cli.md, "Exit statuses"), so a script can tell a write that
 * failed from one whose outcome is unknown.
 */
final class ExitStatus {

  static final int OK = 0;
  /** The request failed, and a write was certainly not applied (or it was a read). */
  static final int ERROR = 1;
  /** Bad usage: unknown option, missing argument, no endpoints. */
  static final int USAGE = 2;
  /** A write's outcome is unknown: it may or may not have been applied, and may still become visible. */
  static final int INDETERMINATE = 3;
  /** The key is absent (or deleted). */
  static final int NOT_FOUND = 4;
  /** A condition of the request did not hold (412; conditional writes). */
  static final int PRECONDITION_FAILED = 5;

  private ExitStatus() {}

  /** How a failed write ends: indeterminate whenever it may have been applied. */
  static int ofWrite(KvException failure) {
    if (failure instanceof KvException.PreconditionFailed) {
      return PRECONDITION_FAILED;
    }
    return failure.mayHaveBeenApplied() ? INDETERMINATE : ERROR;
  }

  /** How a failed read ends. */
  static int ofRead(KvException failure) {
    if (failure instanceof KvException.PreconditionFailed) {
      return PRECONDITION_FAILED;
    }
    return ERROR;
  }

  /** The outcome word of the JSON output for an exit status. */
  static String outcome(int status) {
    return switch (status) {
      case OK -> "ok";
      case INDETERMINATE -> "indeterminate";
      case NOT_FOUND -> "not-found";
      case PRECONDITION_FAILED -> "precondition-failed";
      default -> "error";
    };
  }
}

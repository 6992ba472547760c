package io.quorumkv.cli;

/** Bad usage found after parsing (e.g. no endpoints anywhere): exit status 2 with the message. */
final class UsageException extends RuntimeException {
  UsageException(String message) {
    super(message, null, false, false);
  }
}

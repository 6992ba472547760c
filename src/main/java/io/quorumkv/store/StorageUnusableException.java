package io.quorumkv.store;

/** The data directory cannot be used; the message is the one-line reason shown to the operator. */
public final class StorageUnusableException extends RuntimeException {

  public StorageUnusableException(String message, Throwable cause) {
    super(message, cause);
  }
}

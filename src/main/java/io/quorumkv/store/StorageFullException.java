package io.quorumkv.store;

/**
 * A write was refused because the disk under the data directory is full (ENOSPC). Nothing of
 * that write can be relied on; reads still work, and writes work again once space returns
 * (docs/operating.md, "Disk full").
 */
public final class StorageFullException extends RuntimeException {

  public StorageFullException(String message, Throwable cause) {
    super(message, cause);
  }
}

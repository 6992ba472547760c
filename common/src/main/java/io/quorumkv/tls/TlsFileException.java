package io.quorumkv.tls;

/** A certificate or key file that cannot be used; the message names the file and says why. */
public final class TlsFileException extends IllegalArgumentException {
  public TlsFileException(String message) {
    super(message);
  }

  public TlsFileException(String message, Throwable cause) {
    super(message, cause);
  }
}

package io.quorumkv.store;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The bytes of a value with value semantics ({@code byte[]} in a record compares by identity)
 * and its 64-bit digest, which acknowledgements and read agreement compare next to the version
 * (docs/design.md, "Versions").
 *
 * <p>Immutable: {@link #copyOf} copies bytes that come from outside; {@link #bytes()} hands out
 * the internal array, which callers must not modify.
 */
public final class Value {

  private final byte[] bytes;
  private final long digest;

  private Value(byte[] bytes) {
    this.bytes = bytes;
    this.digest = digestOf(bytes);
  }

  public static Value copyOf(byte[] bytes) {
    return new Value(bytes.clone());
  }

  /** Takes ownership of {@code bytes} without copying; the caller must not touch them again. */
  public static Value wrap(byte[] bytes) {
    return new Value(bytes);
  }

  public static Value ofUtf8(String text) {
    return new Value(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  public byte[] bytes() {
    return bytes;
  }

  public int length() {
    return bytes.length;
  }

  public long digest() {
    return digest;
  }

  /** The first 64 bits of SHA-256: collisions between two values at one version are what it must catch. */
  static long digestOf(byte[] bytes) {
    try {
      byte[] sha = MessageDigest.getInstance("SHA-256").digest(bytes);
      return ByteBuffer.wrap(sha).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM ships SHA-256", e);
    }
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Value value && digest == value.digest && Arrays.equals(bytes, value.bytes);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(digest);
  }

  @Override
  public String toString() {
    // Values are user data: never logged, only their size and digest.
    return "Value[" + bytes.length + " bytes, digest " + Long.toHexString(digest) + "]";
  }
}

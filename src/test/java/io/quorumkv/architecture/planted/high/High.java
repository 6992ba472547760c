package io.quorumkv.architecture.planted.high;

/** The other half of the planted cycle (see {@code Low}). */
public final class High {
  public io.quorumkv.architecture.planted.low.Low down() {
    return new io.quorumkv.architecture.planted.low.Low();
  }
}

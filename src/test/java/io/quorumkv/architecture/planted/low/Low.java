package io.quorumkv.architecture.planted.low;

/** Half of a planted cycle: ArchitectureTest proves its rules catch it. Not used otherwise. */
public final class Low {
  public io.quorumkv.architecture.planted.high.High up() {
    return new io.quorumkv.architecture.planted.high.High();
  }
}

package io.quorumkv.transport;

/** Told of every replica-to-replica call a {@link PeerClient} makes (for metrics). */
public interface PeerTraffic {

  /**
   * @param endpoint the internal endpoint, e.g. {@code apply} (without its query string)
   * @param bytesReceived 0 when the call failed before an answer came
   */
  void called(String peer, String endpoint, boolean succeeded, long bytesSent, long bytesReceived);
}

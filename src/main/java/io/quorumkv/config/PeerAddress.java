package io.quorumkv.config;

/** Another replica, as named by {@code PEER_<NAME>_HOST} / {@code PEER_<NAME>_PORT}. */
public record PeerAddress(String name, String host, int port) {

  public String address() {
    return host + ":" + port;
  }
}

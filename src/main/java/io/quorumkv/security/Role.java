package io.quorumkv.security;

/**
 * What a client token may do. Each role includes the ones before it: {@code read} reads keys and
 * {@code /cluster}; {@code readwrite} also writes and deletes; {@code admin} also calls
 * {@code /admin/*}.
 */
public enum Role {
  READ, READWRITE, ADMIN;

  public boolean includes(Role needed) {
    return ordinal() >= needed.ordinal();
  }
}

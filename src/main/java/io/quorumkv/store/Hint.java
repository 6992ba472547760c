package io.quorumkv.store;

/**
 * A note that replica {@code target} may miss the newest record of {@code key}: written when
 * a write's Apply was not acknowledged by it, replayed (with the record held then, never the
 * one of the original write) when it answers again.
 */
public record Hint(String target, String key, long createdMillis) {}

package io.quorumkv.store;

import io.quorumkv.version.Version;

/**
 * A tombstone every replica (in its current incarnation) was seen to hold: it now counts as
 * absence, and may be purged once old enough (docs/design.md, "Convergence"). {@code settledAtMillis}
 * is this replica's wall clock when it learned so.
 */
public record SettledTombstone(String key, Version version, long settledAtMillis) {}

package io.quorumkv.labels;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import io.quorumkv.config.FsyncMode;
import io.quorumkv.coordinator.Consistency;
import io.quorumkv.coordinator.Phase;
import io.quorumkv.faults.DeliberateBug;
import io.quorumkv.store.Incarnation;
import io.quorumkv.store.ReplicaProtocol.Cause;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.Test;

public class LabelsTest {

  @Test
  public void labelsAreKebabCaseAndParseBackInAnyCase() {
    assertEquals("write-back", Labels.of(Cause.WRITE_BACK));
    assertEquals("version-query", Phase.VERSION_QUERY.label());
    assertEquals("no-read-write-back", DeliberateBug.NO_READ_WRITE_BACK.label());
    assertEquals(Optional.of(Consistency.QUORUM), Consistency.parse(" Quorum "));
    assertEquals(Optional.of(FsyncMode.PERIODIC), FsyncMode.parse("PERIODIC"));
    assertEquals(Optional.of(Cause.ANTI_ENTROPY), Labels.parse(Cause.class, "anti-entropy"));
    for (Class<? extends Enum<?>> type : List.of(Cause.class, Phase.class, Consistency.class, FsyncMode.class,
        DeliberateBug.class, Incarnation.State.class)) {
      roundTrips(type);
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void roundTrips(Class type) {
    for (Object constant : type.getEnumConstants()) {
      assertEquals(Optional.of(constant), Labels.parse(type, Labels.of((Enum) constant)));
    }
  }

  @Test
  public void anUnknownLabelIsEmptyOrAClearError() {
    assertEquals(Optional.empty(), Consistency.parse("two"));
    assertEquals(Optional.empty(), Labels.parse(Consistency.class, null));
    assertEquals(Optional.empty(), Labels.parse(Cause.class, "WRITE_BACK")); // the label, not the name
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Labels.parseOrThrow(FsyncMode.class, "sometimes", "quorumkv.storage.fsync (FSYNC)"));
    assertEquals("quorumkv.storage.fsync (FSYNC) must be one of always, periodic, never, not 'sometimes'",
        e.getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> DeliberateBug.parseList("timer-purge, nope"))
        .getMessage().contains("no-read-write-back, one-round-writes, unsynced-reads, timer-purge"));
    assertEquals(Set.of(DeliberateBug.TIMER_PURGE, DeliberateBug.UNSYNCED_READS),
        DeliberateBug.parseList(" timer-purge,,UNSYNCED-READS "));
  }
}

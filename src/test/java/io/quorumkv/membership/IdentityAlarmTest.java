package io.quorumkv.membership;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.Test;

/** Goal: a duplicate-id alarm refuses writes until no peer has reported it for 30 s. */
public class IdentityAlarmTest {

  @Test
  public void theAlarmLiftsThirtySecondsAfterTheLastReport() {
    AtomicLong nanos = new AtomicLong();
    IdentityAlarm alarm = new IdentityAlarm(7L, nanos::get);
    assertFalse(alarm.reason().isPresent());
    alarm.duplicateReported();
    assertTrue(alarm.reason().isPresent());
    nanos.addAndGet(IdentityAlarm.QUIET_NANOS / 2);
    alarm.duplicateReported();
    nanos.addAndGet(IdentityAlarm.QUIET_NANOS - 1);
    assertTrue("30 s after the last report, not the first", alarm.reason().isPresent());
    nanos.addAndGet(2);
    assertFalse(alarm.reason().isPresent());
  }
}

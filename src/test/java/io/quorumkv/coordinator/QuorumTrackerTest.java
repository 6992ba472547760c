package io.quorumkv.coordinator;

import static io.quorumkv.coordinator.QuorumTracker.Outcome.FAILED;
import static io.quorumkv.coordinator.QuorumTracker.Outcome.PENDING;
import static io.quorumkv.coordinator.QuorumTracker.Outcome.REACHED;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;

import java.util.List;
import org.junit.Test;

/**
 * Goal: quorum counting in isolation, as a table (like etcd-io/raft's majority tests). Each row
 * is replicas, required, a sequence of answers ("+a" success of a, "-b" failure of b), and the
 * outcome after each answer.
 */
public class QuorumTrackerTest {

  private record Row(int replicas, int required, List<String> answers, List<QuorumTracker.Outcome> outcomes) {}

  private static final List<Row> TABLE = List.of(
      new Row(3, 2, List.of("+a", "+b"), List.of(PENDING, REACHED)),
      new Row(3, 2, List.of("+a", "-b", "+c"), List.of(PENDING, PENDING, REACHED)),
      new Row(3, 2, List.of("-a", "-b"), List.of(PENDING, FAILED)),
      new Row(3, 2, List.of("+a", "+a"), List.of(PENDING, PENDING)),          // duplicates count once
      new Row(3, 2, List.of("+a", "-a", "+b"), List.of(PENDING, PENDING, REACHED)), // first answer sticks
      new Row(3, 2, List.of("-a", "+a", "-b"), List.of(PENDING, PENDING, FAILED)),
      new Row(3, 3, List.of("+a", "+b", "-c"), List.of(PENDING, PENDING, FAILED)),
      new Row(3, 3, List.of("+a", "+b", "+c"), List.of(PENDING, PENDING, REACHED)),
      new Row(3, 1, List.of("-a", "-b", "+c"), List.of(PENDING, PENDING, REACHED)),
      new Row(1, 1, List.of("+a"), List.of(REACHED)),
      new Row(5, 3, List.of("+a", "-b", "-c", "+d", "-e"), List.of(PENDING, PENDING, PENDING, PENDING, FAILED)));

  @Test
  public void outcomesFollowTheTable() {
    for (Row row : TABLE) {
      QuorumTracker tracker = new QuorumTracker(row.replicas(), row.required());
      for (int i = 0; i < row.answers().size(); i++) {
        String answer = row.answers().get(i);
        String replica = answer.substring(1);
        QuorumTracker.Outcome outcome = answer.startsWith("+") ? tracker.succeeded(replica) : tracker.failed(replica);
        assertEquals(row + " after " + answer, row.outcomes().get(i), outcome);
      }
    }
  }

  @Test
  public void rejectsImpossibleQuorums() {
    assertThrows(IllegalArgumentException.class, () -> new QuorumTracker(3, 4));
    assertThrows(IllegalArgumentException.class, () -> new QuorumTracker(3, 0));
    assertThrows(IllegalArgumentException.class, () -> new QuorumTracker(0, 0));
  }

  @Test
  public void consistencyLevelsRequireOneMajorityOrAll() {
    assertEquals(1, Consistency.ONE.required(3));
    assertEquals(2, Consistency.QUORUM.required(3));
    assertEquals(3, Consistency.ALL.required(3));
    assertEquals(3, Consistency.QUORUM.required(5));
    assertEquals(1, Consistency.QUORUM.required(1));
  }
}

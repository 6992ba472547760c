package io.quorumkv.coordinator;

import io.quorumkv.config.Fanout;
import io.quorumkv.coordinator.RoundEffect.Reply;
import io.quorumkv.coordinator.RoundEffect.Send;
import io.quorumkv.coordinator.RoundEffect.StartHedgeTimer;
import io.quorumkv.coordinator.RoundEvent.Answered;
import io.quorumkv.coordinator.RoundEvent.BackoffPassed;
import io.quorumkv.coordinator.RoundEvent.DeadlinePassed;
import io.quorumkv.coordinator.RoundEvent.HedgeDelayPassed;
import io.quorumkv.coordinator.RoundEvent.Started;
import io.quorumkv.store.ListPages;
import io.quorumkv.store.ReplicaProtocol.ListPage;
import io.quorumkv.store.ReplicaProtocol.Page;
import io.quorumkv.store.ReplicaProtocol.PageEntry;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.version.HybridLogicalClock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The pages of a listing, as pure code (docs/listing-watch-ttl.md, "Listing"): {@link ListPage}
 * to the replicas as a read asks them (all, or R first: see {@link Fanout}), and, once R pages
 * are in, their merge ({@link ListPlan#merge}) as the result. Only the local replica is asked for
 * values. {@link ListCoordinator} drives it, then runs the reads the merge asks for.
 */
public final class ListRound {

  /** The round tag of the page requests. */
  static final long PAGE = 1;

  /** How the paging ended: the merge, or why there is none. */
  public sealed interface Outcome permits Merged, Failed {}

  public record Merged(ListPlan.Merged merged) implements Outcome {}

  public record Failed(ListResult reason) implements Outcome {}

  private final String prefix;
  private final String start;
  private final int limit;
  private final boolean values;
  private final List<String> targets;
  private final HybridLogicalClock clock;
  private final long replicaId;
  private final Fanout fanout;
  private final QuorumTracker pages;
  private final Map<String, Page> answered = new LinkedHashMap<>();
  private final Set<String> asked = new HashSet<>();
  private final Set<String> failed = new HashSet<>();
  private boolean finished;

  /** @param replicas all N replicas, the local one first ({@code ONE} lists only that one) */
  public ListRound(String prefix, String start, int limit, boolean values, Consistency consistency,
      List<String> replicas, HybridLogicalClock clock, long replicaId, Fanout fanout) {
    this.prefix = prefix;
    this.start = start;
    this.limit = limit;
    this.values = values;
    this.targets = List.copyOf(consistency == Consistency.ONE ? replicas.subList(0, 1) : replicas);
    this.clock = clock;
    this.replicaId = replicaId;
    this.fanout = fanout;
    this.pages = new QuorumTracker(targets.size(), consistency.required(targets.size()));
  }

  public boolean finished() {
    return finished;
  }

  public List<RoundEffect<Outcome>> step(RoundEvent event) {
    List<RoundEffect<Outcome>> effects = new ArrayList<>();
    if (finished || event instanceof BackoffPassed) {
      return effects;
    }
    if (event instanceof Started) {
      int first = fanout.firstAsked(targets.size(), pages.required());
      targets.subList(0, first).forEach(replica -> ask(replica, effects));
      if (first < targets.size()) {
        effects.add(new StartHedgeTimer<>(fanout.hedgeDelay()));
      }
    } else if (event instanceof HedgeDelayPassed) {
      askTheRest(effects);
    } else if (event instanceof DeadlinePassed) {
      finish(new Failed(notReached()), effects);
    } else if (event instanceof Answered answer && answer.round() == PAGE) {
      onPage(answer, effects);
    }
    return effects;
  }

  private void ask(String replica, List<RoundEffect<Outcome>> effects) {
    asked.add(replica);
    // Values only from the local replica: a peer's page travels without them (a stream frame's bound).
    boolean local = replica.equals(targets.get(0));
    effects.add(new Send<>(replica,
        new ListPage(prefix, start, limit, values && local, new Stamp(replicaId, clock.peek())), PAGE));
  }

  private void askTheRest(List<RoundEffect<Outcome>> effects) {
    targets.stream().filter(replica -> !asked.contains(replica)).forEach(replica -> ask(replica, effects));
  }

  private void onPage(Answered answer, List<RoundEffect<Outcome>> effects) {
    String replica = answer.replica();
    if (!asked.contains(replica) || answered.containsKey(replica) || failed.contains(replica)) {
      return; // not asked, or a duplicate
    }
    if (answer.answer() instanceof Page page && wellFormed(page) && admitted(replica, page)) {
      answered.put(replica, page);
      if (pages.succeeded(replica) == QuorumTracker.Outcome.REACHED) {
        finish(new Merged(ListPlan.merge(answered, targets.get(0), pages.required(), limit, values,
            HybridLogicalClock.millisOf(clock.peek()))), effects);
      }
      return;
    }
    failed.add(replica);
    askTheRest(effects);
    if (pages.failed(replica) == QuorumTracker.Outcome.FAILED) {
      finish(new Failed(notReached()), effects);
    }
  }

  /**
   * A page as asked for: keys in ascending order, each under the prefix and from the start on,
   * none past its end, and an end not before the start. A peer's page is untrusted input: a page
   * that is not so counts as a failed answer, and never steers the listing outside its range.
   */
  private boolean wellFormed(Page page) {
    String from = ListPages.compare(start, prefix) > 0 ? start : prefix;
    String previous = null;
    for (PageEntry entry : page.entries()) {
      if (!entry.key().startsWith(prefix) || ListPages.compare(entry.key(), from) < 0
          || previous != null && ListPages.compare(entry.key(), previous) <= 0
          || page.end().isPresent() && ListPages.compare(entry.key(), page.end().get()) > 0) {
        return false;
      }
      previous = entry.key();
    }
    return page.end().map(end -> ListPages.compare(end, from) >= 0).orElse(true);
  }

  /** A page's clock readings (its stamp and its versions) within max-clock-offset, and so observed. */
  private boolean admitted(String replica, Page page) {
    long newest = page.entries().stream().map(PageEntry::version).mapToLong(version -> version.hlc())
        .max().orElse(0L);
    return clock.admit(replica, "list page", page.stamp().clock(), newest);
  }

  private QuorumNotReached notReached() {
    return new QuorumNotReached(Phase.READ, pages.successes(), pages.required(), pages.replicas());
  }

  private void finish(Outcome outcome, List<RoundEffect<Outcome>> effects) {
    finished = true;
    effects.add(new Reply<>(outcome));
  }
}

package io.quorumkv.store;

import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import io.quorumkv.store.ReplicaProtocol.Applied;
import io.quorumkv.store.ReplicaProtocol.Apply;
import io.quorumkv.store.ReplicaProtocol.Read;
import io.quorumkv.store.ReplicaProtocol.ReadVersion;
import io.quorumkv.store.ReplicaProtocol.RecordHeld;
import io.quorumkv.store.ReplicaProtocol.Request;
import io.quorumkv.store.ReplicaProtocol.Stamp;
import io.quorumkv.store.ReplicaProtocol.VersionHeld;
import io.quorumkv.version.HybridLogicalClock;
import java.util.List;
import java.util.Optional;

/**
 * The replica's data: the only actor that touches its {@link Storage}. It answers the
 * {@link ReplicaProtocol} for the local coordinators and, through the internal HTTP routes,
 * for the peers' coordinators.
 *
 * <p>It runs on the dedicated {@code quorumkv.storage-dispatcher} because storage calls may
 * block. Every message moves the clock past the sender's clock and every version it carries.
 */
public final class StoreActor extends AbstractBehavior<Request> {

  private final String name;
  private final long replicaId;
  private final Storage storage;
  private final HybridLogicalClock clock;
  private final ReplicaStats stats;

  /**
   * @param name the name local coordinators know this replica by (the node id)
   * @param replicaId this replica's random 64-bit id
   */
  public static Behavior<Request> create(
      String name, long replicaId, Storage storage, HybridLogicalClock clock, ReplicaStats stats) {
    return Behaviors.setup(ctx -> new StoreActor(ctx, name, replicaId, storage, clock, stats));
  }

  private StoreActor(
      ActorContext<Request> ctx,
      String name,
      long replicaId,
      Storage storage,
      HybridLogicalClock clock,
      ReplicaStats stats) {
    super(ctx);
    this.name = name;
    this.replicaId = replicaId;
    this.storage = storage;
    this.clock = clock;
    this.stats = stats;
  }

  @Override
  public Receive<Request> createReceive() {
    return newReceiveBuilder()
        .onMessage(ReadVersion.class, this::onReadVersion)
        .onMessage(Read.class, this::onRead)
        .onMessage(Apply.class, this::onApply)
        .onSignal(PostStop.class, signal -> onStop())
        .build();
  }

  private Behavior<Request> onReadVersion(ReadVersion request) {
    clock.observe(request.stamp().clock());
    Optional<Record> held = storage.get(request.key());
    request.replyTo().tell(
        new VersionHeld(name, stamp(), Record.versionOf(held), Record.digestOf(held)));
    return this;
  }

  private Behavior<Request> onRead(Read request) {
    clock.observe(request.stamp().clock());
    request.replyTo().tell(new RecordHeld(name, stamp(), storage.get(request.key())));
    return this;
  }

  private Behavior<Request> onApply(Apply request) {
    Record incoming = request.record();
    clock.observe(request.stamp().clock());
    clock.observe(incoming.version().hlc());
    Record held = storage.applyIfNewer(List.of(new KeyedRecord(request.key(), incoming))).get(0);
    if (held.version().equals(incoming.version()) && held.digest() != incoming.digest()) {
      stats.digestConflict(request.key(), held.version(), "apply on " + name);
    }
    request.replyTo().tell(new Applied(name, stamp(), held.version(), held.digest()));
    return this;
  }

  /** Stamped after the clock observed the request, so the reading covers everything held. */
  private Stamp stamp() {
    return new Stamp(replicaId, clock.peek());
  }

  private Behavior<Request> onStop() {
    storage.close();
    return this;
  }
}

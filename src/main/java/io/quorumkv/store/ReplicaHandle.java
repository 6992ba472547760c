package io.quorumkv.store;

import akka.actor.typed.ActorRef;
import io.quorumkv.store.ReplicaProtocol.Call;

/**
 * One replica as its asker sees it: the name its replies carry and where to send calls (the
 * local StoreActor or a RemoteReplica).
 *
 * @param admitted for the local replica, the StoreActor's own ref and its queue bound: calls
 *     {@link #send sent} through this handle are admitted first; null for a peer (its client
 *     bounds its own calls) and for test probes
 */
public record ReplicaHandle(String name, ActorRef<Call> ref, Admitted admitted) {

  /** The local StoreActor behind its admission bound. */
  public record Admitted(ActorRef<StoreActor.Command> store, StoreAdmission admission) {}

  /** A peer (or a probe): calls go straight to {@code ref}. */
  public ReplicaHandle(String name, ActorRef<Call> ref) {
    this(name, ref, null);
  }

  /** The local replica: calls sent through {@link #send} pass its admission bound. */
  public static ReplicaHandle local(String name, ActorRef<StoreActor.Command> store, StoreAdmission admission) {
    return new ReplicaHandle(name, store.narrow(), new Admitted(store, admission));
  }

  /**
   * Sends a call: to a peer as it is; to the local store only when its queue admits it, else the
   * call is answered unavailable at once.
   */
  public void send(Call call) {
    if (admitted == null) {
      ref.tell(call);
      return;
    }
    StoreActor.offer(admitted.store(), admitted.admission(), call, name);
  }
}

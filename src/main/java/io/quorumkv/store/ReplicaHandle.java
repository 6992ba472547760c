package io.quorumkv.store;

import akka.actor.typed.ActorRef;

/**
 * One replica as a coordinator sees it: the name its answers carry and where to send requests
 * (the local StoreActor or a RemoteReplica).
 *
 * @param admitted for the local replica, the StoreActor's own ref and its queue bound: requests
 *     {@link #send sent} through this handle are admitted first; null for a peer (its client
 *     bounds its own calls) and for test probes
 */
public record ReplicaHandle(String name, ActorRef<ReplicaProtocol.Request> ref, Admitted admitted) {

  /** The local StoreActor behind its admission bound. */
  public record Admitted(ActorRef<StoreActor.Command> store, StoreAdmission admission) {}

  /** A peer (or a probe): requests go straight to {@code ref}. */
  public ReplicaHandle(String name, ActorRef<ReplicaProtocol.Request> ref) {
    this(name, ref, null);
  }

  /** The local replica: requests sent through {@link #send} pass its admission bound. */
  public static ReplicaHandle local(String name, ActorRef<StoreActor.Command> store, StoreAdmission admission) {
    return new ReplicaHandle(name, store.narrow(), new Admitted(store, admission));
  }

  /**
   * Sends a client request's message: to a peer as it is; to the local store only when its
   * queue admits it, else the request is answered unavailable at once.
   */
  public void send(ReplicaProtocol.Request request) {
    if (admitted == null) {
      ref.tell(request);
      return;
    }
    StoreActor.offer(admitted.store(), admitted.admission(), request, name);
  }
}

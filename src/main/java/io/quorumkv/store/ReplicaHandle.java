package io.quorumkv.store;

import akka.actor.typed.ActorRef;

/**
 * One replica as a coordinator sees it: the name its answers carry and where to send requests
 * (the local StoreActor or a RemoteReplica).
 */
public record ReplicaHandle(String name, ActorRef<ReplicaProtocol.Request> ref) {}

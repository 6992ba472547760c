package io.quorumkv.coordinator;

import akka.actor.testkit.typed.javadsl.TestKitJunitResource;
import akka.actor.testkit.typed.javadsl.TestProbe;
import io.quorumkv.store.ReplicaHandle;
import io.quorumkv.store.ReplicaProtocol;
import java.util.List;

/** Three TestProbes standing in for the replicas a, b and c (a is the local one). */
final class Replicas {

  final TestProbe<ReplicaProtocol.Request> a;
  final TestProbe<ReplicaProtocol.Request> b;
  final TestProbe<ReplicaProtocol.Request> c;

  Replicas(TestKitJunitResource testKit) {
    a = testKit.createTestProbe();
    b = testKit.createTestProbe();
    c = testKit.createTestProbe();
  }

  List<ReplicaHandle> handles() {
    return List.of(new ReplicaHandle("a", a.getRef()), new ReplicaHandle("b", b.getRef()),
        new ReplicaHandle("c", c.getRef()));
  }

  List<TestProbe<ReplicaProtocol.Request>> all() {
    return List.of(a, b, c);
  }
}

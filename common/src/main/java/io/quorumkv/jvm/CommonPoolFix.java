package io.quorumkv.jvm;

/**
 * On a machine with 2 cores the JDK's common ForkJoinPool gets parallelism 1, and then every
 * asynchronous CompletableFuture stage without an executor runs on a new thread
 * (CompletableFuture.ThreadPerTaskExecutor). akka-http's Java API adapts Scala futures with
 * such stages, so each HTTP response would cost a thread start. Giving the common pool a
 * parallelism of at least 2 makes those stages use the pool instead. Both the replica and the
 * client launcher apply it.
 */
public final class CommonPoolFix {

  public static final String PROPERTY = "java.util.concurrent.ForkJoinPool.common.parallelism";

  private CommonPoolFix() {}

  /** Must run first in main, before anything touches the common pool. */
  public static void apply() {
    if (System.getProperty(PROPERTY) == null) {
      System.setProperty(PROPERTY, Integer.toString(Math.max(2, Runtime.getRuntime().availableProcessors())));
    }
  }
}

package io.quorumkv.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.Test;

public class BenchTest {

  private static final Map<String, String> NO_PEERS = Map.of();

  @Test
  public void optionsParse() {
    Bench.Options options = Bench.parse(List.of("--nodes", "127.0.0.1:7000,127.0.0.1:7001", "--concurrency", "64",
        "--duration", "30s", "--mix", "read=50,write=50", "--keys", "1000", "--distribution", "zipfian",
        "--rate", "5000", "--consistency", "one", "--prefill", "--seed", "3"), NO_PEERS);
    assertEquals(2, options.nodes().size());
    assertEquals(64, options.concurrency());
    assertEquals(Duration.ofSeconds(30), options.duration());
    assertEquals(50, options.writePercent());
    assertEquals("zipfian", options.distribution().label());
    assertEquals(5000.0, options.rate(), 0.0);
    assertEquals(Consistency.ONE, options.consistency());
    assertTrue(options.prefill());
    assertEquals(3L, options.seed());
    assertEquals(new Bench.Mix(60, 10, 30),
        Bench.parse(List.of("--nodes", "h:1", "--mix", "read=60,write=10,cas=30"), NO_PEERS).mix());
    assertEquals(new Bench.Mix(0, 50, 0, 50),
        Bench.parse(List.of("--nodes", "h:1", "--mix", "write=50,create=50"), NO_PEERS).mix());
  }

  @Test
  public void badOptionsAreRefusedWithTheReason() {
    List<List<String>> bad = List.of(
        List.of("--nodes", "h:1", "--distribution", "gaussian"),
        List.of("--nodes", "h:1", "--rate", "0"),
        List.of("--nodes", "h:1", "--mix", "read=50,write=40"),
        List.of("--nodes", "h:1", "--mix", "read=50,cas=60"),
        List.of("--nodes", "h:1", "--mix", "read=50,create=60"),
        List.of("--nodes", "h:1", "--mix", "read=50,delete=50"),
        List.of("--nodes", "h:1", "--concurrency"),
        List.of("--nodes", "h:1", "--frobnicate", "1"));
    for (List<String> args : bad) {
      assertThrows(args.toString(), IllegalArgumentException.class, () -> Bench.parse(args, NO_PEERS));
    }
  }

  @Test
  public void uniformKeysCoverTheRangeEvenly() {
    KeyDistribution uniform = KeyDistribution.parse("uniform", 10);
    int[] counts = draw(uniform, 10, 100_000);
    for (int count : counts) {
      assertTrue("count " + count, count > 9_000 && count < 11_000);
    }
  }

  @Test
  public void zipfianKeysAreSkewedTowardTheFirstAndStayInRange() {
    int keys = 1000;
    int[] counts = draw(KeyDistribution.parse("zipfian", keys), keys, 200_000);
    // Theta 0.99 over 1000 keys: key 0 takes about 13 %, key 1 about half of that, the top 10 about 38 %.
    double first = counts[0] / 200_000.0;
    assertTrue("share of key 0: " + first, first > 0.10 && first < 0.17);
    assertTrue(counts[0] > counts[1] && counts[1] > counts[10] && counts[10] > counts[500]);
    int topTen = 0;
    for (int i = 0; i < 10; i++) {
      topTen += counts[i];
    }
    assertTrue("share of the top 10: " + topTen / 200_000.0, topTen / 200_000.0 > 0.30 && topTen / 200_000.0 < 0.46);
    assertTrue("the tail is drawn too", counts[999] + counts[998] + counts[997] > 0);
  }

  private static int[] draw(KeyDistribution distribution, int keys, int draws) {
    Random random = new Random(11);
    int[] counts = new int[keys];
    for (int i = 0; i < draws; i++) {
      counts[distribution.next(random)]++; // out of range would throw
    }
    return counts;
  }
}

package io.quorumkv.client;

import java.util.Locale;
import java.util.Random;

/** Which key a benchmark request goes to: one of {@code keys}, by index. */
sealed interface KeyDistribution permits KeyDistribution.Uniform, KeyDistribution.Zipfian {

  int next(Random random);

  String label();

  /** {@code uniform} or {@code zipfian}, over {@code keys} keys. */
  static KeyDistribution parse(String name, int keys) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "uniform" -> new Uniform(keys);
      case "zipfian" -> new Zipfian(keys, Zipfian.THETA);
      default -> throw new IllegalArgumentException("--distribution must be uniform or zipfian, not '" + name + "'");
    };
  }

  /** Every key equally likely. */
  record Uniform(int keys) implements KeyDistribution {
    @Override
    public int next(Random random) {
      return random.nextInt(keys);
    }

    @Override
    public String label() {
      return "uniform";
    }
  }

  /**
   * Key {@code i} (from 0) drawn with probability proportional to {@code 1 / (i + 1)^theta}:
   * a few hot keys, a long tail (YCSB's default skew, theta 0.99). The constant-time method of
   * Gray et al., "Quickly generating billion-record synthetic databases" (SIGMOD 1994), as
   * YCSB uses it; the normalising sum is computed once, O(keys).
   */
  final class Zipfian implements KeyDistribution {
    static final double THETA = 0.99;

    private final int keys;
    private final double theta;
    private final double zetaN;
    private final double alpha;
    private final double eta;

    Zipfian(int keys, double theta) {
      if (keys < 1 || theta <= 0 || theta >= 1) {
        throw new IllegalArgumentException("zipfian needs at least one key and 0 < theta < 1");
      }
      this.keys = keys;
      this.theta = theta;
      this.zetaN = zeta(keys, theta);
      this.alpha = 1.0 / (1.0 - theta);
      double zeta2 = zeta(2, theta);
      this.eta = keys == 1 ? 0 : (1 - Math.pow(2.0 / keys, 1 - theta)) / (1 - zeta2 / zetaN);
    }

    private static double zeta(int n, double theta) {
      double sum = 0;
      for (int i = 1; i <= n; i++) {
        sum += 1 / Math.pow(i, theta);
      }
      return sum;
    }

    @Override
    public int next(Random random) {
      double u = random.nextDouble();
      double uz = u * zetaN;
      if (uz < 1.0 || keys == 1) {
        return 0;
      }
      if (uz < 1.0 + Math.pow(0.5, theta)) {
        return 1;
      }
      int rank = (int) (keys * Math.pow(eta * u - eta + 1, alpha));
      return Math.min(Math.max(rank, 0), keys - 1);
    }

    @Override
    public String label() {
      return "zipfian";
    }
  }
}

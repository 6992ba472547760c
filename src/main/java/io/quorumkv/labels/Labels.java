package io.quorumkv.labels;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The one way the replica's enums are written in settings, query strings, JSON bodies and logs:
 * the constant's name in lower case with {@code -} for {@code _} ({@code WRITE_BACK} is
 * {@code write-back}), and parsed back the same way, trimmed and in any case. Before, each enum
 * parsed its own way (one fell back to a default, one threw, others gave an empty Optional).
 */
public final class Labels {

  private Labels() {}

  /**
   * Each enum's labels by ordinal, computed once: labels are written on every request (metrics,
   * the cause of every peer call), so they must not cost a string conversion each time.
   */
  private static final ClassValue<String[]> LABELS = new ClassValue<>() {
    @Override
    protected String[] computeValue(Class<?> type) {
      Object[] constants = type.getEnumConstants();
      String[] labels = new String[constants.length];
      for (int i = 0; i < constants.length; i++) {
        labels[i] = ((Enum<?>) constants[i]).name().toLowerCase(Locale.ROOT).replace('_', '-');
      }
      return labels;
    }
  };

  /** The label of {@code constant}. */
  public static String of(Enum<?> constant) {
    return LABELS.get(constant.getDeclaringClass())[constant.ordinal()];
  }

  /** The constant of {@code type} labelled {@code text} (trimmed, any case); empty for anything else. */
  public static <E extends Enum<E>> Optional<E> parse(Class<E> type, String text) {
    if (text == null) {
      return Optional.empty();
    }
    String[] labels = LABELS.get(type);
    String wanted = text.trim();
    for (int i = 0; i < labels.length; i++) {
      if (labels[i].equalsIgnoreCase(wanted)) {
        return Optional.of(type.getEnumConstants()[i]);
      }
    }
    return Optional.empty();
  }

  /**
   * As {@link #parse}, but an unknown label is an {@link IllegalArgumentException} that names
   * {@code what} was being parsed and every label it could have been.
   */
  public static <E extends Enum<E>> E parseOrThrow(Class<E> type, String text, String what) {
    return parse(type, text).orElseThrow(() -> new IllegalArgumentException(
        what + " must be one of " + known(type) + ", not '" + text + "'"));
  }

  /** Every label of {@code type}, in declaration order: {@code "one, quorum, all"}. */
  public static <E extends Enum<E>> String known(Class<E> type) {
    return Arrays.stream(type.getEnumConstants()).map(Labels::of).collect(Collectors.joining(", "));
  }
}

package io.quorumkv.wire;

import com.fasterxml.jackson.annotation.JacksonInject;
import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.annotation.OptBoolean;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.InjectableValues;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.jsontype.NamedType;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import io.quorumkv.store.ReplicaProtocol;
import io.quorumkv.store.Value;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The one encoding of the {@link ReplicaProtocol} between replicas: CBOR (values travel as raw
 * bytes, not base64), each request and answer an object whose {@code type} names its record
 * ({@code read-version}, {@code applied}, ...). The types are found from the sealed family itself,
 * so a record added to {@link ReplicaProtocol} travels without a change here. Decoding is strict:
 * a missing, null or unknown field, an unknown type, or a record whose own constructor refuses
 * the values is malformed ({@link MalformedMessage}), never a default.
 */
public final class WireCodec {

  public static final String CONTENT_TYPE = "application/cbor";
  /**
   * Bytes a message may carry besides its value (key, versions, stamps, field names), so a
   * request body, a stream frame and a stored hint are bounded by {@code value-bytes-max} plus
   * this.
   */
  public static final int ENVELOPE_BYTES_MAX = 64 * 1024;

  // Declared before CBOR, whose mapper names the types. Cached: every peer call names its type
  // (metrics, clock checks), and a regular expression per call showed in the profile of a PUT.
  private static final ClassValue<String> TYPE_NAMES = new ClassValue<>() {
    @Override
    protected String computeValue(Class<?> type) {
      return type.getSimpleName().replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
    }
  };
  private static final ObjectMapper CBOR = mapper();

  private WireCodec() {}

  /** The most bytes one encoded message may take, given the largest value. */
  public static int messageBytesMax(int valueBytesMax) {
    return valueBytesMax + ENVELOPE_BYTES_MAX;
  }

  public static byte[] encode(Object message) {
    try {
      return CBOR.writeValueAsBytes(message);
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode " + message.getClass().getSimpleName(), e);
    }
  }

  /** @throws MalformedMessage when {@code bytes} is not one well-formed {@code type} */
  public static <T> T decode(byte[] bytes, Class<T> type) throws MalformedMessage {
    T message;
    try {
      message = CBOR.readValue(bytes, type);
    } catch (IOException | RuntimeException e) {
      throw new MalformedMessage(firstLine(e.getMessage()), e);
    }
    if (message == null) {
      throw new MalformedMessage("empty body", null);
    }
    return message;
  }

  /** The wire name of a message type: its simple name in kebab case ({@code ReadVersion} is {@code read-version}). */
  public static String typeName(Class<?> type) {
    return TYPE_NAMES.get(type);
  }


  /** Thrown for bytes that are not a well-formed message. */
  public static final class MalformedMessage extends IOException {
    public MalformedMessage(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * The name under which a field added after the first release is injected when a message leaves
   * it out: such a field is written only when it is not 0, and read as 0 when missing, so a
   * message that does not use it encodes exactly as on the build before it (both ways of a
   * rolling upgrade), while every other field stays required.
   */
  private static final String ABSENT_MEANS_ZERO = "absent-means-zero";

  /** {@link io.quorumkv.store.Record}'s {@code ttlMillis}, added with TTLs. */
  private abstract static class RecordFields {
    @JsonInclude(JsonInclude.Include.NON_DEFAULT)
    long ttlMillis;

    @JsonCreator
    RecordFields(@JsonProperty("version") io.quorumkv.version.Version version, @JsonProperty("value") Value value,
        @JacksonInject(value = ABSENT_MEANS_ZERO, useInput = OptBoolean.TRUE) @JsonProperty("ttlMillis") long ttlMillis) {}
  }

  /** {@link ReplicaProtocol.PageEntry}'s {@code ttlMillis} and {@code promised}, added with TTLs. */
  private abstract static class PageEntryFields {
    @JsonInclude(JsonInclude.Include.NON_DEFAULT)
    long ttlMillis;
    @JsonInclude(JsonInclude.Include.NON_DEFAULT)
    boolean promised;

    @JsonCreator
    PageEntryFields(@JsonProperty("key") String key, @JsonProperty("version") io.quorumkv.version.Version version,
        @JsonProperty("digest") long digest, @JsonProperty("proposal") boolean proposal,
        @JsonProperty("unknown") boolean unknown, @JsonProperty("value") java.util.Optional<Value> value,
        @JacksonInject(value = ABSENT_MEANS_ZERO, useInput = OptBoolean.TRUE) @JsonProperty("ttlMillis") long ttlMillis,
        @JacksonInject(value = ABSENT_MEANS_FALSE, useInput = OptBoolean.TRUE) @JsonProperty("promised")
        boolean promised) {}
  }

  /** As {@link #ABSENT_MEANS_ZERO}, for an optional field: absent means empty. */
  private static final String ABSENT_MEANS_EMPTY = "absent-means-empty";
  /** As {@link #ABSENT_MEANS_ZERO}, for a flag: absent means false. */
  private static final String ABSENT_MEANS_FALSE = "absent-means-false";

  /** {@link ReplicaProtocol.RecordHeld}'s {@code promise}, added with conditions on expiring values. */
  private abstract static class RecordHeldFields {
    @JsonInclude(JsonInclude.Include.NON_ABSENT)
    java.util.Optional<io.quorumkv.version.Version> promise;

    @JsonCreator
    RecordHeldFields(@JsonProperty("stamp") ReplicaProtocol.Stamp stamp,
        @JsonProperty("record") java.util.Optional<io.quorumkv.store.Record> record,
        @JacksonInject(value = ABSENT_MEANS_EMPTY, useInput = OptBoolean.TRUE) @JsonProperty("promise")
        java.util.Optional<io.quorumkv.version.Version> promise) {}
  }

  /** {@link ReplicaProtocol.RecordAndProposal}'s {@code promise}, as {@link RecordHeldFields}. */
  private abstract static class RecordAndProposalFields {
    @JsonInclude(JsonInclude.Include.NON_ABSENT)
    java.util.Optional<io.quorumkv.version.Version> promise;

    @JsonCreator
    RecordAndProposalFields(@JsonProperty("stamp") ReplicaProtocol.Stamp stamp,
        @JsonProperty("record") java.util.Optional<io.quorumkv.store.Record> record,
        @JsonProperty("proposal") io.quorumkv.store.Proposal proposal,
        @JacksonInject(value = ABSENT_MEANS_EMPTY, useInput = OptBoolean.TRUE) @JsonProperty("promise")
        java.util.Optional<io.quorumkv.version.Version> promise) {}
  }

  /** Polymorphic by a {@code type} property; the subtypes are registered by name below. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
  private interface Typed {}

  private static ObjectMapper mapper() {
    SimpleModule module = new SimpleModule("quorumkv-wire");
    module.addSerializer(Value.class, new ValueSerializer());
    module.addDeserializer(Value.class, new ValueDeserializer());
    module.setMixInAnnotation(ReplicaProtocol.Request.class, Typed.class);
    module.setMixInAnnotation(ReplicaProtocol.Answer.class, Typed.class);
    module.setMixInAnnotation(io.quorumkv.store.Record.class, RecordFields.class);
    module.setMixInAnnotation(ReplicaProtocol.PageEntry.class, PageEntryFields.class);
    module.setMixInAnnotation(ReplicaProtocol.RecordHeld.class, RecordHeldFields.class);
    module.setMixInAnnotation(ReplicaProtocol.RecordAndProposal.class, RecordAndProposalFields.class);
    List<NamedType> types = new ArrayList<>();
    collect(ReplicaProtocol.Request.class, types);
    collect(ReplicaProtocol.Answer.class, types);
    module.registerSubtypes(types.toArray(NamedType[]::new));
    return CBORMapper.builder()
        .addModule(new Jdk8Module())
        .addModule(module)
        .injectableValues(new InjectableValues.Std().addValue(ABSENT_MEANS_ZERO, 0L)
            .addValue(ABSENT_MEANS_EMPTY, java.util.Optional.empty()).addValue(ABSENT_MEANS_FALSE, false))
        // Records are written by their components only: no derived getter (isTombstone, lane, ...)
        // may become a field that the reader then refuses as unknown.
        .visibility(PropertyAccessor.FIELD, JsonAutoDetect.Visibility.ANY)
        .visibility(PropertyAccessor.GETTER, JsonAutoDetect.Visibility.NONE)
        .visibility(PropertyAccessor.IS_GETTER, JsonAutoDetect.Visibility.NONE)
        .disable(MapperFeature.AUTO_DETECT_GETTERS, MapperFeature.AUTO_DETECT_IS_GETTERS)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .disable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
        .build();
  }

  /** Every record under a sealed interface, each under its wire name. */
  private static void collect(Class<?> sealed, List<NamedType> into) {
    for (Class<?> type : sealed.getPermittedSubclasses()) {
      if (type.isInterface()) {
        collect(type, into);
      } else if (into.stream().noneMatch(named -> named.getType().equals(type))) {
        into.add(new NamedType(type, typeName(type)));
      }
    }
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unreadable body";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

  private static final class ValueSerializer extends JsonSerializer<Value> {
    @Override
    public void serialize(Value value, JsonGenerator generator, SerializerProvider provider) throws IOException {
      generator.writeBinary(value.bytes());
    }
  }

  private static final class ValueDeserializer extends JsonDeserializer<Value> {
    @Override
    public Value deserialize(JsonParser parser, DeserializationContext context) throws IOException {
      if (parser.currentToken() != JsonToken.VALUE_EMBEDDED_OBJECT) { // CBOR bytes, never base64 text
        return (Value) context.handleUnexpectedToken(Value.class, parser);
      }
      return Value.wrap(parser.getBinaryValue());
    }
  }
}

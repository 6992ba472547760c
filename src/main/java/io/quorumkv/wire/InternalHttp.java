package io.quorumkv.wire;

/**
 * Where the replica protocol travels over HTTP: {@code POST /internal/v2/call} with one CBOR
 * request as its body (answered 200 and one CBOR answer, or an error status and a JSON reason),
 * and {@code GET /internal/v2/stream}, the replication stream (see {@link StreamFrames}).
 *
 * <p>v2: the protocol is one family of typed records; v1 had a path per message. A replica of
 * this release neither serves nor calls v1, so a cluster is upgraded by stopping every replica
 * and starting them all on the new release (docs/operating.md, "Upgrading").
 */
public final class InternalHttp {

  private InternalHttp() {}

  public static final String PREFIX = "internal";
  public static final String VERSION = "v2";
  public static final String CALL_PATH = "call";
  public static final String STREAM_PATH = "stream";
  /** The path of {@link #CALL_PATH} from the root, for callers and proxies. */
  public static final String CALL_TARGET = "/" + PREFIX + "/" + VERSION + "/" + CALL_PATH;
  public static final String STREAM_TARGET = "/" + PREFIX + "/" + VERSION + "/" + STREAM_PATH;
  /**
   * Query parameter of {@link #CALL_PATH}: the request's cause label, where a proxy or an access log
   * sees it without decoding the body. Informational: the receiver reads the body only.
   */
  public static final String CAUSE_PARAMETER = "cause";
  public static final String SECRET_HEADER = "X-QuorumKV-Secret";
}

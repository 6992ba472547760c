package io.quorumkv.http;

import akka.http.javadsl.model.HttpEntity;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.MediaTypes;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.ExceptionHandler;
import akka.http.javadsl.server.MalformedRequestContentRejection;
import akka.http.javadsl.server.RejectionHandler;
import akka.http.scaladsl.model.EntityStreamSizeException;
import akka.pattern.AskTimeoutException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where rejections and exceptions become responses: JSON {@code {"error": ...}}
 * with the right status, never a stack trace, never a dropped connection.
 */
public final class ErrorHandling {

  private static final Logger log = LoggerFactory.getLogger(ErrorHandling.class);

  private ErrorHandling() {}

  /** Akka's default rejection statuses (404, 405, 413, ...), with their text turned into JSON. */
  public static RejectionHandler rejections() {
    return RejectionHandler.newBuilder()
        .handle(MalformedRequestContentRejection.class, rejection ->
            akka.http.javadsl.server.Directives.complete(rejection.getCause() instanceof EntityStreamSizeException
                ? responseFor(rejection.getCause())
                : JsonResponses.badRequest("malformed request body: " + rejection.message())))
        .build()
        .withFallback(RejectionHandler.defaultHandler())
        .mapRejectionResponse(ErrorHandling::asJson);
  }

  private static HttpResponse asJson(HttpResponse response) {
    if (response.entity() instanceof HttpEntity.Strict strict
        && !strict.getContentType().mediaType().equals(MediaTypes.APPLICATION_JSON)) {
      String text = strict.getData().utf8String();
      return JsonResponses.error(response.status(), text.isBlank() ? response.status().reason() : text)
          .withHeaders(response.getHeaders());
    }
    return response;
  }

  public static ExceptionHandler exceptions() {
    return ExceptionHandler.newBuilder()
        .match(CompletionException.class, e -> handle(e.getCause() == null ? e : e.getCause()))
        .matchAny(ErrorHandling::handle)
        .build();
  }

  private static akka.http.javadsl.server.Route handle(Throwable failure) {
    return akka.http.javadsl.server.Directives.complete(responseFor(failure));
  }

  static HttpResponse responseFor(Throwable failure) {
    if (failure instanceof EntityStreamSizeException size) {
      return JsonResponses.error(StatusCodes.PAYLOAD_TOO_LARGE, "request body too large",
          "limitBytes", size.limit());
    }
    if (failure instanceof io.quorumkv.store.StorageFullException full) {
      return JsonResponses.error(StatusCodes.SERVICE_UNAVAILABLE, "storage full: " + full.getMessage(),
          "phase", "storage", "outcome", "not-applied");
    }
    if (failure instanceof AskTimeoutException || failure instanceof TimeoutException) {
      // The coordinators' own deadlines answer first; this is a replica too busy to answer.
      return JsonResponses.error(StatusCodes.SERVICE_UNAVAILABLE, "the replica did not answer in time");
    }
    log.error("Request failed unexpectedly", failure);
    return JsonResponses.error(StatusCodes.INTERNAL_SERVER_ERROR, "internal error: " + failure.getClass().getSimpleName());
  }
}

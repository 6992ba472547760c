package io.quorumkv.http;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCode;
import akka.http.javadsl.model.StatusCodes;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.Map;

/** Every JSON body the replica sends, and the one shape of its errors: {@code {"error": ...}}. */
public final class JsonResponses {

  private static final ObjectMapper JSON = new ObjectMapper();

  private JsonResponses() {}

  public static HttpResponse json(StatusCode status, Object body) {
    try {
      return HttpResponse.create()
          .withStatus(status)
          .withEntity(ContentTypes.APPLICATION_JSON, JSON.writeValueAsBytes(body));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render a response body", e);
    }
  }

  /** {@code {"error": message, ...details}}, details in the order given. */
  public static HttpResponse error(StatusCode status, String message, Object... details) {
    if (details.length % 2 != 0) {
      throw new IllegalArgumentException("details are name/value pairs");
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", message);
    for (int i = 0; i < details.length; i += 2) {
      body.put((String) details[i], details[i + 1]);
    }
    return json(status, body);
  }

  public static HttpResponse badRequest(String message) {
    return error(StatusCodes.BAD_REQUEST, message);
  }
}

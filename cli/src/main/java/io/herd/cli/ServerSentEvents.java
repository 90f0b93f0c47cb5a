package io.herd.cli;

/**
 * A Server-Sent Events parser fed one line at a time: {@code id:}, {@code event:} and {@code data:}
 * fields (several data lines join with a newline), comments ({@code :...}) ignored, a blank line
 * ends the event.
 */
final class ServerSentEvents {
  record Event(String id, String type, String data) {}

  private String id;
  private String type;
  private StringBuilder data;

  /** The event this line completes, or null. */
  Event line(String line) {
    if (line.isEmpty()) {
      if (data == null && type == null && id == null) {
        return null;
      }
      Event e = new Event(id, type == null ? "message" : type, data == null ? "" : data.toString());
      id = null;
      type = null;
      data = null;
      return e;
    }
    if (line.startsWith(":")) {
      return null;
    }
    int colon = line.indexOf(':');
    String field = colon < 0 ? line : line.substring(0, colon);
    String value = colon < 0 ? "" : line.substring(colon + 1);
    if (value.startsWith(" ")) {
      value = value.substring(1);
    }
    switch (field) {
      case "id":
        id = value;
        break;
      case "event":
        type = value;
        break;
      case "data":
        if (data == null) {
          data = new StringBuilder(value);
        } else {
          data.append('\n').append(value);
        }
        break;
      default:
        // retry and unknown fields do not concern a one-shot reader
    }
    return null;
  }
}

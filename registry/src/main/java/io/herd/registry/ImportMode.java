package io.herd.registry;

import io.herd.core.HubException;

/**
 * What a bulk or import entry does to its identity. The wire names arrive in mixed case ({@code
 * create}, {@code Update}, {@code DeleteIfMatchETag}), so they parse case-insensitively.
 */
public enum ImportMode {
  CREATE("create"),
  CREATE_OR_UPDATE("createOrUpdate"),
  CREATE_OR_UPDATE_IF_MATCH_ETAG("createOrUpdateIfMatchETag"),
  UPDATE("update"),
  UPDATE_IF_MATCH_ETAG("updateIfMatchETag"),
  DELETE("delete"),
  DELETE_IF_MATCH_ETAG("deleteIfMatchETag"),
  UPDATE_TWIN("updateTwin"),
  UPDATE_TWIN_IF_MATCH_ETAG("updateTwinIfMatchETag");

  private final String wire;

  ImportMode(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }

  public boolean checksEtag() {
    return this == CREATE_OR_UPDATE_IF_MATCH_ETAG
        || this == UPDATE_IF_MATCH_ETAG
        || this == DELETE_IF_MATCH_ETAG
        || this == UPDATE_TWIN_IF_MATCH_ETAG;
  }

  public boolean touchesTwinOnly() {
    return this == UPDATE_TWIN || this == UPDATE_TWIN_IF_MATCH_ETAG;
  }

  public static ImportMode parse(String field, String value) {
    if (value == null) {
      return CREATE_OR_UPDATE;
    }
    for (ImportMode m : values()) {
      if (m.wire.equalsIgnoreCase(value)) {
        return m;
      }
    }
    throw HubException.badRequest(
        "Field '"
            + field
            + "' has unknown import mode '"
            + value
            + "' (expected create, createOrUpdate, createOrUpdateIfMatchETag, update,"
            + " updateIfMatchETag, delete, deleteIfMatchETag, updateTwin, updateTwinIfMatchETag)");
  }
}

package io.herd.registry;

import java.util.List;

/** The outcome of a bulk registry request: per-entry errors, the rest applied. */
public record BulkResult(List<BulkError> errors) {
  public BulkResult {
    errors = List.copyOf(errors);
  }

  public boolean isSuccessful() {
    return errors.isEmpty();
  }
}

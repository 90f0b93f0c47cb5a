package io.herd.query.eval;

import io.herd.core.twin.Twin;

/** A compiled WHERE condition: true only when the condition evaluates to exactly true. */
@FunctionalInterface
public interface TwinPredicate {
  TwinPredicate ALL = t -> true;

  boolean test(Twin twin);
}

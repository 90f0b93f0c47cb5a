package io.herd.query.eval;

import io.herd.core.twin.Twin;

/** A compiled expression: its value for one twin, or null for undefined. */
@FunctionalInterface
public interface Evaluator {
  Object eval(Twin twin);
}

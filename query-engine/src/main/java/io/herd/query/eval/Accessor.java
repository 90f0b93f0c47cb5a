package io.herd.query.eval;

import io.herd.core.twin.Twin;

/** Reads one value out of a twin; built once per path at compile time. Null means undefined. */
@FunctionalInterface
public interface Accessor {
  Object get(Twin twin);
}

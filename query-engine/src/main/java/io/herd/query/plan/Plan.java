package io.herd.query.plan;

import io.herd.query.ast.Query;

/** A bound and optimized query, ready for the compiler. */
public record Plan(Query query) {
  public static Plan of(Query parsed) {
    return new Plan(Optimizer.optimize(Binder.bind(parsed)));
  }

  /** The canonical text of the optimized query; golden files compare against it. */
  public String explain() {
    return query.toString();
  }
}

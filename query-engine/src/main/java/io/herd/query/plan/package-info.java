/** Binder (paths, functions, arities, aggregates) and optimizer (folding, flattening, ordering). */
package io.herd.query.plan;

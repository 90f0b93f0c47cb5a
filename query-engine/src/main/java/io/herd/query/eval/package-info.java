/**
 * Value semantics, path accessors and the compiler from expressions to evaluators and predicates.
 */
package io.herd.query.eval;

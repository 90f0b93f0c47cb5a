/** Recursive-descent parser; the grammar is in {@link io.herd.query.parse.Parser}. */
package io.herd.query.parse;

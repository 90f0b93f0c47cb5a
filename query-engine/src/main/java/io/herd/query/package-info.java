/**
 * The twin query language (azure-iothub-wire.md §6), compiled to predicates over immutable twin
 * snapshots. Entry points: {@link io.herd.query.QueryEngine#compile(String)} and {@link
 * io.herd.query.QueryExecutor#run}. Stages, one package each: {@code lex} (tokens with offsets),
 * {@code parse} (recursive descent to the {@code ast}), {@code plan} (binder and optimizer), {@code
 * eval} (compiled evaluators and predicates). Pure Java: no io.vertx.
 */
package io.herd.query;

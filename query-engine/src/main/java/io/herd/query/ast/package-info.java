/**
 * The syntax tree: {@link io.herd.query.ast.Expr} and {@link io.herd.query.ast.Query}, with
 * canonical text forms.
 */
package io.herd.query.ast;

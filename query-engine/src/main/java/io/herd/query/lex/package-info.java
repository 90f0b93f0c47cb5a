/** Lexer: query text to tokens with offsets. */
package io.herd.query.lex;

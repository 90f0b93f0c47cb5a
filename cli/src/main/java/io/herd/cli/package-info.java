/**
 * The {@code herd} operator CLI: picocli commands over the hub's service REST API
 * (azure-iothub-wire.md §5), spoken with {@code java.net.http} and service SAS tokens. {@link
 * io.herd.cli.HerdCli} is the entry point; everything else is package-private.
 */
package io.herd.cli;

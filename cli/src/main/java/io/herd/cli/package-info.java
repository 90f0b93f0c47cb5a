/** The herd operator CLI; built in the CLI issue. */
package io.herd.cli;

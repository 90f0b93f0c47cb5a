/** Device simulator and load tester; built in the simulator issue. */
package io.herd.simulator;

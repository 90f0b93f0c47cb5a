/** Twin query language compiler; built in the query issue. */
package io.herd.query;

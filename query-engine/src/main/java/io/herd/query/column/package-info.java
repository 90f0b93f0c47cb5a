/**
 * Twin paths held column-wise for scans: {@link io.herd.query.column.TwinColumns} keeps twins in
 * dense slots with dictionary-coded columns, fed by the caller from the change feed; {@link
 * io.herd.query.column.ColumnQuery} runs compiled queries over them. Pure Java.
 */
package io.herd.query.column;

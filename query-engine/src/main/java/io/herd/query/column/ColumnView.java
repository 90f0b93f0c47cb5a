package io.herd.query.column;

/**
 * A reader's view of one column, taken under the writer lock: the arrays as they were then and the
 * number of codes assigned. Writers may still change {@code codes} in place; a code at or above
 * {@code size} is a value this view does not know, and the reader reads that slot's twin instead.
 * {@code counts} is only an estimate once the lock is released.
 */
record ColumnView(String path, int[] codes, Object[] values, int[] counts, int size) {}

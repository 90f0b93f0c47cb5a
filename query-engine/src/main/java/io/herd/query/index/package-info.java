/**
 * Secondary indexes on twin paths ({@link io.herd.query.index.TwinIndex}) and the choice of one for
 * a compiled query ({@link io.herd.query.index.IndexPlanner}). Pure Java: the caller feeds changes.
 */
package io.herd.query.index;

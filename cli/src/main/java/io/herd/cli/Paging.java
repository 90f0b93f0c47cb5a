package io.herd.cli;

import io.vertx.core.json.JsonArray;

/** Follows {@code x-ms-continuation} until the last page or {@code --max-items}. */
final class Paging {
  /** The largest page the hub serves (Herd's limit; IoT Hub documents 100). */
  static final int MAX_PAGE = 1000;

  private Paging() {}

  /** A page fetcher: one request for {@code pageSize} rows after {@code continuation}. */
  interface Fetch {
    HubClient.Page page(Integer pageSize, String continuation);
  }

  /**
   * Writes every page to {@code rows} and ends it.
   *
   * @param paged rows per request ({@code --page-size}; null for the hub's default, or {@code
   *     --max-items} up to {@link #MAX_PAGE} when that is given) and where to stop ({@code
   *     --max-items}, null for all)
   * @return the rows written
   */
  static long all(Fetch fetch, Options.Paged paged, Output.Rows rows) {
    Integer pageSize = paged.pageSize;
    Long maxItems = paged.maxItems;
    String token = null;
    long seen = 0;
    do {
      Integer size = pageSize;
      if (maxItems != null) {
        long left = maxItems - seen;
        size = (int) Math.min(size == null ? MAX_PAGE : size, left);
      }
      HubClient.Page p = fetch.page(size, token);
      JsonArray page = p.rows();
      if (maxItems != null && page.size() > maxItems - seen) {
        JsonArray cut = new JsonArray();
        for (int i = 0; i < maxItems - seen; i++) {
          cut.add(page.getValue(i));
        }
        page = cut;
      }
      rows.page(page, p.itemType());
      seen += page.size();
      String next = p.continuation();
      if (next != null && next.equals(token) && page.isEmpty()) {
        throw new IllegalStateException("the hub returned the same continuation token twice");
      }
      token = next;
    } while (token != null && (maxItems == null || seen < maxItems));
    rows.end();
    return seen;
  }
}

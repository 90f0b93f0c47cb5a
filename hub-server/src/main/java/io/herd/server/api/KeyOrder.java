package io.herd.server.api;

import io.herd.core.twin.Twin;
import io.herd.core.twin.TwinKey;
import java.util.Arrays;
import java.util.Comparator;

/**
 * The order query rows come in: device id, then module id, a device's own twin before its modules'.
 * Sorting thousands of twins by comparing their ids directly is bound by memory latency (each
 * comparison reads two twins, keys and strings from all over the heap), so {@link #sort} first
 * reads each id once into a compact entry holding four characters of it after the prefix all the
 * ids share; most comparisons end there.
 */
final class KeyOrder {
  private KeyOrder() {}

  static final Comparator<TwinKey> KEYS = KeyOrder::compare;

  static int compare(TwinKey a, TwinKey b) {
    int c = a.deviceId().compareTo(b.deviceId());
    if (c != 0) {
      return c;
    }
    String x = a.moduleId() == null ? "" : a.moduleId();
    String y = b.moduleId() == null ? "" : b.moduleId();
    return x.compareTo(y);
  }

  private record Entry(long head, Twin twin) {}

  private static final Comparator<Entry> ENTRIES =
      (a, b) -> {
        int c = Long.compareUnsigned(a.head, b.head);
        return c != 0 ? c : compare(a.twin.key(), b.twin.key());
      };

  /** Sorts twins by key, in place. */
  static void sort(Twin[] twins) {
    if (twins.length < 2) {
      return;
    }
    String first = twins[0].key().deviceId();
    int shared = first.length();
    for (int i = 1; i < twins.length && shared > 0; i++) {
      shared = Math.min(shared, common(first, twins[i].key().deviceId(), shared));
    }
    Entry[] entries = new Entry[twins.length];
    for (int i = 0; i < twins.length; i++) {
      entries[i] = new Entry(head(twins[i].key().deviceId(), shared), twins[i]);
    }
    if (entries.length > 100_000) {
      Arrays.parallelSort(entries, ENTRIES);
    } else {
      Arrays.sort(entries, ENTRIES);
    }
    for (int i = 0; i < twins.length; i++) {
      twins[i] = entries[i].twin;
    }
  }

  private static int common(String a, String b, int limit) {
    int n = Math.min(limit, Math.min(a.length(), b.length()));
    int i = 0;
    while (i < n && a.charAt(i) == b.charAt(i)) {
      i++;
    }
    return i;
  }

  /**
   * Characters {@code from .. from + 3} of an id, 16 bits each, as an unsigned number that orders
   * like the characters do ({@link String#compareTo} compares chars); a shorter id is padded with
   * 0, below every character an id may hold.
   */
  static long head(String id, int from) {
    long h = 0;
    for (int k = 0; k < 4; k++) {
      int i = from + k;
      h = (h << 16) | (i < id.length() ? id.charAt(i) : 0);
    }
    return h;
  }
}

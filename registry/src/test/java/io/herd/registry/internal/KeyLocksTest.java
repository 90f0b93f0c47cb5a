package io.herd.registry.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class KeyLocksTest {
  @Test
  void disjointKeysRunTogetherSharedKeysWaitInOrder() {
    KeyLocks locks = new KeyLocks();
    assertThat(locks.acquire(List.of("a")).succeeded()).isTrue();
    assertThat(locks.acquire(List.of("b")).succeeded()).isTrue();
    List<String> order = new ArrayList<>();
    Future<Void> ab = locks.acquire(List.of("a", "b")).onSuccess(v -> order.add("ab"));
    Future<Void> b2 = locks.acquire(List.of("b")).onSuccess(v -> order.add("b2"));
    Future<Void> c = locks.acquire(List.of("c")).onSuccess(v -> order.add("c"));
    assertThat(c.succeeded()).as("c is free but queued behind waiters").isFalse();
    locks.release(List.of("a"));
    // ab still waits for b; b2 must not overtake ab; c is free and not blocked by anyone.
    assertThat(order).containsExactly("c");
    locks.release(List.of("b"));
    assertThat(order).containsExactly("c", "ab");
    assertThat(b2.isComplete()).isFalse();
    locks.release(List.of("a", "b"));
    assertThat(order).containsExactly("c", "ab", "b2");
    assertThat(ab.succeeded()).isTrue();
    assertThat(locks.waiting()).isZero();
  }
}

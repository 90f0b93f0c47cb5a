package io.herd.simulator.internal;

import java.util.Arrays;

/**
 * Which simulated devices misbehave: of the devices numbered {@code 0 .. devices-1}, exactly {@code
 * round(devices * percent / 100)} fail firmware updates, and as many (by their own percentage)
 * answer direct methods late. The choice depends only on the seed, the device count and the device
 * number, so every simulator process of a run, and a test that checks the outcome, agree on it
 * without talking to each other.
 *
 * <p>Each device gets a 64-bit key from a bijective mix of the seed, a salt per kind of fault and
 * its number; the devices with the smallest keys are chosen. The mix is a bijection, so keys never
 * tie and the count is exact.
 */
public final class FaultPlan {

  private static final long FIRMWARE_SALT = 0x6669726d77617265L; // "firmware"
  private static final long SLOW_SALT = 0x736c6f775f6d6574L; // "slow_met"

  private final long seed;
  private final Choice firmware;
  private final Choice slow;

  public FaultPlan(long seed, int devices, double failPercent, double slowPercent) {
    if (devices < 0) {
      throw new IllegalArgumentException("devices must be >= 0");
    }
    this.seed = seed;
    this.firmware = Choice.of(seed ^ FIRMWARE_SALT, devices, chosen(devices, failPercent));
    this.slow = Choice.of(seed ^ SLOW_SALT, devices, chosen(devices, slowPercent));
  }

  /** How many of {@code devices} a percentage chooses: rounded to the nearest device. */
  public static int chosen(int devices, double percent) {
    if (!(percent >= 0 && percent <= 100)) {
      throw new IllegalArgumentException("a percentage must be in [0, 100]: " + percent);
    }
    return (int) Math.round(devices * percent / 100.0);
  }

  public boolean failsFirmwareUpdates(int device) {
    return firmware.includes(key(seed ^ FIRMWARE_SALT, device));
  }

  public boolean answersLate(int device) {
    return slow.includes(key(seed ^ SLOW_SALT, device));
  }

  /** The {@code count} smallest keys, told by the largest of them. */
  private record Choice(int count, long largestKey) {

    static Choice of(long salted, int devices, int count) {
      if (count == 0) {
        return new Choice(0, 0);
      }
      long[] keys = new long[devices];
      for (int n = 0; n < devices; n++) {
        keys[n] = key(salted, n);
      }
      Arrays.sort(keys);
      return new Choice(count, keys[count - 1]);
    }

    boolean includes(long key) {
      return count > 0 && key <= largestKey;
    }
  }

  /** SplitMix64's finaliser over the salted seed and the device number: a bijection of n. */
  private static long key(long salted, int n) {
    long z = salted + (n + 1L) * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}

/**
 * What `stats()` reports. Field names are snake_case because they go straight to `--json`.
 *
 * - `entries`: live entries (stored and not expired); expired entries not yet purged are not counted.
 * - `utilization`: `entries / max_size` as a percent (0–100, two decimals).
 * - `hit_rate`: `hits / (hits + misses)` as a percent (0–100, two decimals), or `null` when there
 *   has been no lookup yet: "no data" is not a 0 % hit rate, and callers must not alarm on it.
 * - `evictions`: entries removed to make room (capacity). `expirations`: entries removed because
 *   their TTL had passed (found on a lookup, by `purgeExpired`, or when the least recently used
 *   entry that capacity would drop had already expired). The two never count the same removal.
 * - `writes`: values stored by `set`/`setMany`/loads (an overwrite is one write).
 */
export interface CacheStats {
  entries: number;
  max_size: number;
  utilization: number;
  hits: number;
  misses: number;
  hit_rate: number | null;
  evictions: number;
  expirations: number;
  writes: number;
  /** getOrLoad callers that joined a load already in flight instead of starting their own. */
  coalesced_loads: number;
}

/** Rounds a ratio to a percent with two decimals. */
export function percent(part: number, whole: number): number {
  return Math.round((part / whole) * 10000) / 100;
}

/** The hit rate as a percent, or null when there were no lookups. */
export function hitRate(hits: number, misses: number): number | null {
  const lookups = hits + misses;
  return lookups === 0 ? null : percent(hits, lookups);
}

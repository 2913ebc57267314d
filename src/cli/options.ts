import { InvalidArgumentError } from 'commander';

/*
 * Parsers of option values, for commander's `argParser` (or the third argument of `.option`).
 * They throw InvalidArgumentError with "expected …, got …"; `formatUsageError` (main.ts) puts the
 * option's name in front, so the user reads one line: --cache-size: expected …, got "0".
 */

/** A whole number of at least `min` (and at most `max`, when given); surrounding spaces are ignored. */
export function wholeNumber(range: { min: number; max?: number }): (value: string) => number {
  const { min, max } = range;
  const expected = max === undefined ? `a whole number of at least ${min}` : `a whole number from ${min} to ${max}`;
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || (max !== undefined && n > max)) {
      throw new InvalidArgumentError(`expected ${expected}, got "${value}"`);
    }
    return n;
  };
}

/** A decimal number from `min` to `max`. */
export function decimal(range: { min: number; max: number }): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < range.min || n > range.max) {
      throw new InvalidArgumentError(`expected a number from ${range.min} to ${range.max}, got "${value}"`);
    }
    return n;
  };
}

function expectedChoice(choices: readonly string[]): string {
  return choices.length === 2 ? `${choices[0]} or ${choices[1]}` : `one of ${choices.join(', ')}`;
}

/**
 * One of `choices`. Use it after `.choices()` (which lists them in --help) so a wrong value reads
 * like every other bad option value.
 */
export function oneOf<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected ${expectedChoice(choices)}, got "${value}"`);
    return value as T;
  };
}

/** A comma-separated list of `choices` (case-insensitive); a repeated option adds to the list. */
export function listOf<T extends string>(choices: readonly T[]): (value: string, previous: T[] | undefined) => T[] {
  return (value, previous) => {
    const names = value
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    if (names.length === 0) throw new InvalidArgumentError(`expected a comma-separated list of ${choices.join(', ')}, got "${value}"`);
    for (const name of names) {
      if (!(choices as readonly string[]).includes(name)) throw new InvalidArgumentError(`expected ${expectedChoice(choices)}, got "${name}"`);
    }
    return [...(previous ?? []), ...(names as T[])];
  };
}

/** HOST:PORT to listen on (`127.0.0.1:9464`, `[::1]:9464`, `:9464` for every address); port 0 lets the system choose. */
export function hostPort(value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]*)):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new InvalidArgumentError(`expected HOST:PORT such as 127.0.0.1:9464 (port 0 to 65535), got "${value}"`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

/** A limit given as a count (`10`) or as a share of a total (`5%`, `0.5%`). */
export type CountOrPercent = { count: number; percent?: undefined } | { percent: number; count?: undefined };

/** `N` (a whole number of at least `min`) or `P%` (a percentage from 0 to 100). */
export function countOrPercent(range: { min: number }): (value: string) => CountOrPercent {
  const count = wholeNumber(range);
  const share = decimal({ min: 0, max: 100 });
  return (value) => {
    const text = value.trim();
    try {
      return text.endsWith('%') ? { percent: share(text.slice(0, -1)) } : { count: count(text) };
    } catch {
      throw new InvalidArgumentError(`expected a whole number of at least ${range.min} or a percentage from 0% to 100%, got "${value}"`);
    }
  };
}

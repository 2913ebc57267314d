import { ValidationError } from './errors.js';

/**
 * Checks the rules the schema cannot express (DESIGN.md): lengths of VARCHAR columns (SQLite does
 * not enforce them), year, duration, track/disc numbers, progress, status/source values, ISRC.
 * `where` names the row in the message, e.g. `track #3 (spotify:track:…)`.
 */
export class Checker {
  constructor(private readonly where: string) {}

  private fail(field: string, expected: string, got: unknown): never {
    throw new ValidationError(`${this.where}: ${field} must be ${expected}, got ${show(got)}; fix the input and retry (nothing was written)`);
  }

  unknownField(field: string, known: readonly string[]): never {
    throw new ValidationError(`${this.where}: unknown field ${field}; expected only ${known.join(', ')} (nothing was written)`);
  }

  /** The row itself must be an object. */
  object(value: unknown): asserts value is Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail('the row', 'an object', value);
  }

  /** A required, non-blank string of at most `max` characters. */
  text(field: string, value: unknown, max: number): string {
    if (typeof value !== 'string' || value.trim() === '') this.fail(field, 'a non-empty text', value);
    return this.storable(field, value, max);
  }

  /** An optional string (undefined = not given, null = clear) of at most `max` characters. */
  optionalText(field: string, value: unknown, max: number): string | null | undefined {
    if (value === undefined || value === null) return value;
    if (typeof value !== 'string' || value === '') this.fail(field, `a non-empty text of at most ${max} characters or null`, value);
    return this.storable(field, value, max);
  }

  private storable(field: string, value: string, max: number): string {
    const problem = unstorableText(value);
    if (problem) this.fail(field, `text without ${problem}`, value);
    if (value.length > max) {
      const n = characters(value);
      if (n > max) this.fail(field, `at most ${max} characters`, `${n} characters`);
    }
    return value;
  }

  /** An integer in [min, max]; `nullable` allows null. undefined passes through (not given). */
  int(field: string, value: unknown, min: number, max: number, nullable: boolean): number | null | undefined {
    if (value === undefined) return undefined;
    if (value === null) {
      if (nullable) return null;
      this.fail(field, `a whole number from ${min} to ${max}`, value);
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      const range = max >= INT32_MAX ? `>= ${min}` : `from ${min} to ${max}`;
      this.fail(field, `a whole number ${range}${nullable ? ' or null' : ''}`, value);
    }
    return value;
  }

  number(field: string, value: unknown, min: number, max: number): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) this.fail(field, `a number from ${min} to ${max}`, value);
    return value;
  }

  /** One of `allowed` (lower case, as stored). */
  oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) this.fail(field, `one of ${allowed.join(', ')}`, value);
    return value as T;
  }

  bool(field: string, value: unknown): boolean | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') this.fail(field, 'true or false', value);
    return value;
  }

  date(field: string, value: unknown, nullable: boolean): Date | null | undefined {
    if (value === undefined) return undefined;
    if (value === null && nullable) return null;
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) this.fail(field, `a valid date${nullable ? ' or null' : ''}`, value);
    return value;
  }

  /** A non-negative bigint (file sizes); numbers that are safe integers are accepted too. */
  bigint(field: string, value: unknown): bigint | null | undefined {
    if (value === undefined || value === null) return value;
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
    if (typeof value !== 'bigint' || value < 0n || value > 9223372036854775807n) this.fail(field, 'a whole number of bytes >= 0 (bigint)', value);
    return value;
  }

  /** ISRC: 12 characters (CC XXX YY NNNNN without dashes); stored upper case, as the standard writes it. */
  isrc(value: unknown): string | null | undefined {
    if (value === undefined || value === null) return value;
    if (typeof value !== 'string' || !/^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$/i.test(value)) {
      this.fail('isrc', '12 characters: 2 letters, 3 letters or digits, 7 digits (e.g. USRC17607839)', value);
    }
    return value.toUpperCase();
  }
}

/** A value as a message shows it: strings quoted, objects and arrays as (clipped) JSON, never `[object Object]`. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(clip(value));
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid date' : value.toISOString();
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) {
    let json: string | undefined;
    try {
      json = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    } catch {
      // a cycle: named by its kind below
    }
    const kind = Array.isArray(value) ? 'an array' : `an object (${value.constructor?.name ?? 'no prototype'})`;
    return json === undefined ? kind : clip(json);
  }
  if (value === null) return 'null';
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Human label of a batch row for messages: `track #3 (spotify:track:…)`; a key that is not a text (unchecked input) is left out. */
export function rowLabel(entity: string, index: number, key?: unknown): string {
  return typeof key === 'string' && key !== '' ? `${entity} #${index + 1} (${key})` : `${entity} #${index + 1}`;
}

/**
 * Characters as PostgreSQL's VARCHAR(n) counts them (code points: an emoji is one, not two UTF-16
 * units). SQLite enforces no length, so counting this way gives both databases the same limit.
 */
export function characters(value: string): number {
  let n = 0;
  for (const _ of value) n += 1;
  return n;
}

/**
 * What in a text neither database stores as given: a NUL (PostgreSQL refuses it in text) or half
 * a UTF-16 surrogate pair (not Unicode; the drivers would turn it into U+FFFD). Undefined if none.
 */
export function unstorableText(value: string): string | undefined {
  // The common case first, without the regular expression (an import checks ~17 texts a row):
  // String.prototype.isWellFormed (ES2024) is false exactly when a surrogate is unpaired.
  if (value.indexOf('\0') < 0 && (value as { isWellFormed(): boolean } & string).isWellFormed()) return undefined;
  const bad = UNSTORABLE.exec(value);
  if (!bad) return undefined;
  return bad[0] === '\0' ? 'NUL characters (\\0)' : 'unpaired UTF-16 surrogates';
}

const UNSTORABLE = /[\0\p{Cs}]/u;

export const YEAR_MIN = 1900;
export const YEAR_MAX = 2100;
export const INT32_MAX = 2_147_483_647;

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let forcedGc: (() => void) | null | undefined;

/**
 * A function that forces a full garbage collection: `global.gc` when node runs with --expose-gc,
 * otherwise the same function obtained by turning the flag on at run time. Null if neither works.
 */
export function getGc(): (() => void) | null {
  if (forcedGc !== undefined) return forcedGc;
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return (forcedGc = existing);
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    setFlagsFromString('--no-expose-gc');
    forcedGc = typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    forcedGc = null;
  }
  return forcedGc;
}

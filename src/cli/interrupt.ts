import { InterruptedError } from '../errors.js';
import type { CommandContext } from './context.js';

export interface InterruptOptions {
  /** What the first Ctrl-C makes the run do, as a gerund: "finishing the current batch". */
  stopping: string;
  /** What draws on the terminal (the progress line, a live view): stopped before the notice is written. */
  progress?: { stop(): void };
}

/**
 * Runs `work` with an AbortSignal for Ctrl-C, the only SIGINT handler of the program. The first
 * Ctrl-C aborts the signal (its reason an InterruptedError): the feature stops at its next safe
 * point, keeps what it committed, and returns or throws as it documents. A second Ctrl-C stops at
 * once: the promise rejects with an InterruptedError marked `abandoned`, whatever `work` still
 * waits for, and the entry point ends the process (exit 130).
 */
export async function withInterrupt<T>(ctx: CommandContext, options: InterruptOptions, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let abandon: (error: InterruptedError) => void = () => {};
  const abandoned = new Promise<never>((_resolve, reject) => (abandon = reject));
  const onSigint = () => {
    if (controller.signal.aborted) {
      abandon(new InterruptedError(`interrupted twice: stopped at once instead of ${options.stopping}`, { abandoned: true }));
      return;
    }
    options.progress?.stop();
    ctx.stderr.write(`\nInterrupted: ${options.stopping} (Ctrl-C again to stop at once)…\n`);
    controller.abort(new InterruptedError(`interrupted: ${options.stopping}`));
  };
  process.on('SIGINT', onSigint);
  const running = Promise.resolve().then(() => work(controller.signal));
  try {
    return await Promise.race([running, abandoned]);
  } finally {
    process.removeListener('SIGINT', onSigint);
    // Once abandoned, how the work ends concerns nobody: the process is about to end.
    running.catch(() => {});
  }
}

import type { CommandContext } from './context.js';

/** A progress line on stderr: an ora spinner on a terminal, nothing otherwise (pipes, CI, --quiet, --json). */
export interface Spinner {
  update(text: string): void;
  /** Marks the current step done (✔ text) and keeps spinning for the next. */
  succeed(text: string): void;
  stop(): void;
}

const silent: Spinner = { update() {}, succeed() {}, stop() {} };

export async function startSpinner(ctx: CommandContext, text: string): Promise<Spinner> {
  const tty = (ctx.stderr as NodeJS.WriteStream).isTTY === true;
  if (!tty || ctx.options.quiet || ctx.options.json) return silent;
  const { default: ora } = await import('ora');
  const spinner = ora({ text, stream: ctx.stderr }).start();
  return {
    update: (t) => {
      spinner.text = t;
      if (!spinner.isSpinning) spinner.start();
    },
    succeed: (t) => {
      spinner.succeed(t);
    },
    stop: () => {
      if (spinner.isSpinning) spinner.stop();
    },
  };
}

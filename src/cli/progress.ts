import type { CommandContext } from './context.js';

/**
 * A progress line on stderr: an ora spinner on a terminal, nothing otherwise (pipes, CI, --quiet,
 * --json, a terminal without a usable width). Every command's progress goes through here; nothing
 * else imports ora.
 */
export interface Progress {
  /** Whether anything is drawn (otherwise callers may log their progress instead). */
  readonly shown: boolean;
  update(text: string): void;
  /** Marks the current step done (✔ text) and keeps spinning for the next. */
  succeed(text: string): void;
  stop(): void;
}

const silent: Progress = { shown: false, update() {}, succeed() {}, stop() {} };

/**
 * ora divides by the terminal's width to count the lines it redraws: a width of 0 (a pty whose
 * size was never set, as in some CI runners and containers) makes that count infinite, and ora then
 * moves the cursor up forever in one synchronous loop, deaf to Ctrl-C and SIGTERM. ora reads
 * `columns ?? 80`, so only a width that is there and not positive is a problem.
 */
function usableWidth(stream: NodeJS.WriteStream): boolean {
  return stream.columns === undefined || stream.columns >= 1;
}

export async function startProgress(ctx: CommandContext, text: string): Promise<Progress> {
  const stream = ctx.stderr as NodeJS.WriteStream;
  if (stream.isTTY !== true || ctx.options.quiet || ctx.options.json || !usableWidth(stream)) return silent;
  const { default: ora } = await import('ora');
  // discardStdin off: ora would put stdin in raw mode, where Ctrl-C is no signal but a byte it
  // re-emits as a 'SIGINT' event, which nobody hears in a command without an interrupt handler.
  const spinner = ora({ text, stream, discardStdin: false }).start();
  let stopped = false;
  // The width changes only on a resize, signalled before ora's next frame: stop drawing then.
  const onResize = () => {
    if (!usableWidth(stream)) stop();
  };
  const stop = () => {
    stopped = true;
    stream.removeListener('resize', onResize);
    if (spinner.isSpinning) spinner.stop();
  };
  stream.on('resize', onResize);
  return {
    get shown() {
      return !stopped;
    },
    update: (t) => {
      if (stopped) return;
      spinner.text = t;
      if (!spinner.isSpinning) spinner.start();
    },
    succeed: (t) => {
      if (!stopped) spinner.succeed(t);
    },
    stop,
  };
}

/**
 * Callbacks the repositories fire after a write has been committed. A cache (issue 7) subscribes to
 * invalidate what it holds; nothing here may throw back into the write that already happened.
 */
export interface RepositoryHooks {
  /**
   * Called once per TrackRepository write (add/update/upsert/delete) with the ids it touched. The
   * write resolves after a returned promise settles: a shared cache tier has told every process
   * to forget the tracks before the writer goes on.
   */
  onTracksWritten?(trackIds: string[]): void | Promise<void>;
}

/** Fires `onTracksWritten` when there is something to report; a failing hook never undoes a committed write. */
export async function notifyTracksWritten(hooks: RepositoryHooks | undefined, trackIds: string[]): Promise<void> {
  if (!hooks?.onTracksWritten || trackIds.length === 0) return;
  try {
    await hooks.onTracksWritten(trackIds);
  } catch {
    // The write is committed; a broken listener must not turn it into a reported failure.
  }
}

/**
 * Callbacks the repositories fire after a write has been committed. A cache (issue 7) subscribes to
 * invalidate what it holds; nothing here may throw back into the write that already happened.
 */
export interface RepositoryHooks {
  /** Called once per TrackRepository write (add/update/upsert/delete) with the ids it touched. */
  onTracksWritten?(trackIds: string[]): void;
}

/** Fires `onTracksWritten` when there is something to report; a throwing hook never undoes a committed write. */
export function notifyTracksWritten(hooks: RepositoryHooks | undefined, trackIds: string[]): void {
  if (!hooks?.onTracksWritten || trackIds.length === 0) return;
  try {
    hooks.onTracksWritten(trackIds);
  } catch {
    // The write is committed; a broken listener must not turn it into a reported failure.
  }
}

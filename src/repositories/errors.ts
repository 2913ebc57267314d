import { ExitCode, SoulspotError, UsageError } from '../errors.js';

/**
 * A value the schema cannot check (a year out of range, a negative duration, an unknown status…).
 * Thrown before anything is written, so a batch is refused whole, never half-written.
 */
export class ValidationError extends UsageError {}

/** A row named by id does not exist (update, transition, playlist edit). */
export class NotFoundError extends SoulspotError {
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} ${id} does not exist; check the id (list them first)`, ExitCode.USAGE);
  }
}

/** A write would duplicate a unique value (spotify_uri, isrc, musicbrainz_id, a playlist entry). */
export class ConflictError extends UsageError {}

/** A download status transition that DESIGN.md's state machine refuses. */
export class InvalidTransitionError extends SoulspotError {
  constructor(
    readonly downloadId: string,
    readonly status: string,
    readonly transition: string,
    readonly allowedFrom: readonly string[],
  ) {
    super(
      `download ${downloadId} is ${status}; cannot ${transition} it (${transition} needs ${allowedFrom.join(' or ')})`,
      ExitCode.USAGE,
    );
  }
}

import { z } from 'zod';

const artist = z.object({ id: z.string().nullish(), name: z.string(), uri: z.string().nullish() });

/** The parts of a Spotify track object soulspot uses (the API sends more; it is ignored). */
export const spotifyTrackSchema = z.object({
  id: z.string(),
  name: z.string(),
  uri: z.string().nullish(),
  duration_ms: z.number().int().nonnegative(),
  track_number: z.number().int().nullish(),
  disc_number: z.number().int().nullish(),
  external_ids: z.object({ isrc: z.string().nullish() }).partial().nullish(),
  artists: z.array(artist).min(1),
  album: z
    .object({
      id: z.string().nullish(),
      name: z.string(),
      uri: z.string().nullish(),
      release_date: z.string().nullish(),
      release_date_precision: z.string().nullish(),
      artists: z.array(artist).nullish(),
    })
    .nullish(),
  linked_from: z.object({ id: z.string().nullish(), uri: z.string().nullish() }).nullish(),
});

export type SpotifyTrack = z.infer<typeof spotifyTrackSchema>;

/** The answer for one id. */
export type TrackLookup = { status: 'found'; track: SpotifyTrack } | { status: 'not_found' } | { status: 'invalid'; reason: string };

/** Validates one element of a `tracks` array (null = not found). */
export function toLookup(value: unknown): TrackLookup {
  if (value === null || value === undefined) return { status: 'not_found' };
  const parsed = spotifyTrackSchema.safeParse(value);
  if (parsed.success) return { status: 'found', track: parsed.data };
  const issue = parsed.error.issues[0];
  return { status: 'invalid', reason: `unexpected track object from Spotify (${issue.path.join('.') || 'root'}: ${issue.message})` };
}

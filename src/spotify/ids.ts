/** A Spotify id: 22 characters of base62. */
const ID = '[0-9A-Za-z]{22}';
const BARE = new RegExp(`^${ID}$`);
const URI = new RegExp(`^spotify:track:(${ID})$`);
// https://open.spotify.com/track/ID, /intl-de/track/ID, /embed/track/ID, with ?si=… or #… after it.
const LINK = new RegExp(`^(?:https?://)?open\\.spotify\\.com/(?:intl-[a-z]{2}(?:-[a-z]{2})?/)?(?:embed/)?track/(${ID})/?(?:[?#].*)?$`, 'i');

/** The track id in a bare id, a `spotify:track:` URI or an open.spotify.com link; undefined if it is none of them. */
export function parseTrackId(input: string): string | undefined {
  const text = input.trim();
  if (BARE.test(text)) return text;
  const match = URI.exec(text) ?? LINK.exec(text);
  return match?.[1];
}

export function trackUri(id: string): string {
  return `spotify:track:${id}`;
}

export interface ParsedIds {
  /** Unique ids in the order first seen. */
  ids: string[];
  /** Inputs that are not a track id, URI or link (trimmed, in input order). */
  malformed: string[];
  /** Inputs that named an id already seen. */
  duplicates: number;
}

/** Parses many inputs at once: unique ids, malformed inputs, duplicates counted. Blank inputs are skipped. */
export function parseTrackIds(inputs: Iterable<string>): ParsedIds {
  const seen = new Set<string>();
  const malformed: string[] = [];
  let duplicates = 0;
  for (const input of inputs) {
    if (input.trim() === '') continue;
    const id = parseTrackId(input);
    if (id === undefined) malformed.push(input.trim());
    else if (seen.has(id)) duplicates++;
    else seen.add(id);
  }
  return { ids: [...seen], malformed, duplicates };
}

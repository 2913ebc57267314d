import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/** The header of Spotify playlist exporters such as Exportify. */
export const EXPORTER_HEADER =
  'Track URI,Track Name,Artist URI(s),Artist Name(s),Album URI,Album Name,Album Artist URI(s),Album Artist Name(s),Album Release Date,Album Image URL,Disc Number,Track Number,Track Duration (ms),Track Preview URL,Explicit,Popularity,ISRC,Added By,Added At';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A valid 22-character Spotify id, unique per (kind, n). */
export function spotifyId(kind: string, n: number): string {
  let x = n;
  let s = '';
  while (x > 0 || s.length === 0) {
    s = ALPHABET[x % 62] + s;
    x = Math.floor(x / 62);
  }
  return (kind.slice(0, 2) + s).padStart(22, '0');
}

const WORDS = ['Night', 'Café', 'Sommer', 'Dreams', 'Ñandú', 'Lights', 'Hjärta', 'Tokyo', '夜', 'River', 'Echo', 'Fire', 'Łódź', 'Blue'];

/** One exporter row for track n: about 12 tracks an album, 4 albums an artist, every 5th track a duet. */
export function exporterRow(n: number): string {
  const album = Math.floor(n / 12);
  const artist = Math.floor(album / 4);
  const featured = artist + 7;
  const artistName = `${WORDS[artist % WORDS.length]} Artist ${artist}`;
  const featuredName = `${WORDS[featured % WORDS.length]} Band ${featured}`;
  const duet = n % 5 === 0;
  const title = `${WORDS[n % WORDS.length]} Song ${n}${n % 7 === 0 ? ', Pt. 2' : ''}`;
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [
    `spotify:track:${spotifyId('tr', n)}`,
    quote(title),
    quote(duet ? `spotify:artist:${spotifyId('ar', artist)}, spotify:artist:${spotifyId('ar', featured)}` : `spotify:artist:${spotifyId('ar', artist)}`),
    quote(duet ? `${artistName}, ${featuredName}` : artistName),
    `spotify:album:${spotifyId('al', album)}`,
    quote(`${WORDS[album % WORDS.length]} Album ${album}`),
    `spotify:artist:${spotifyId('ar', artist)}`,
    quote(artistName),
    `${1960 + (album % 60)}-0${1 + (album % 9)}-1${album % 10}`,
    `https://i.scdn.co/image/ab67616d0000b273${spotifyId('im', album).toLowerCase()}`,
    '1',
    String((n % 12) + 1),
    String(150_000 + ((n * 7919) % 200_000)),
    '',
    n % 3 === 0 ? 'true' : 'false',
    String(n % 100),
    `QZ${String(n % 1000).padStart(3, '0').replace(/\d/, 'K')}${String(n).padStart(7, '0').slice(-7)}`,
    'spotify:user:soulspot',
    new Date(Date.UTC(2020, 0, 1) + n * 60_000).toISOString().replace('.000Z', 'Z'),
  ].join(',');
}

/** Writes an exporter CSV of `rows` tracks (rows 0..rows-1) to `path`. */
export async function writeExporterCsv(path: string, rows: number, start = 0): Promise<void> {
  const out = createWriteStream(path);
  if (!out.write(`${EXPORTER_HEADER}\n`)) await once(out, 'drain');
  let chunk = '';
  for (let n = start; n < start + rows; n++) {
    chunk += `${exporterRow(n)}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

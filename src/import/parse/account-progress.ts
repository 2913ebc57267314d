/** What the parser thread tells the writer about a Spotify account export as it reads it: its files and playlists. */

/** A playlist of the export as read so far. */
export interface AccountPlaylist {
  index: number;
  name: string;
  description: string | null;
  /** The file it is in. */
  file: string;
  /** Podcast episodes and audiobooks among its items (not imported). */
  skipped: number;
  /** Items refused while reading (the rejects file has them). */
  rejected: number;
}

export interface AccountProgress {
  /** The files read (or being read), in order. */
  files: string[];
  playlists: AccountPlaylist[];
}

/** The export's files and playlists as the parser reads them; sent to the writer with the chunks when changed. */
export class AccountTracker {
  private readonly files: string[] = [];
  private readonly playlists: AccountPlaylist[] = [];
  private dirty = true;

  get progress(): AccountProgress {
    return { files: this.files, playlists: this.playlists };
  }

  file(name: string): void {
    this.files.push(name);
    this.dirty = true;
  }

  declare(name: string, file: string): number {
    this.playlists.push({ index: this.playlists.length, name, description: null, file, skipped: 0, rejected: 0 });
    this.dirty = true;
    return this.playlists.length - 1;
  }

  playlist(index: number): AccountPlaylist {
    this.dirty = true;
    return this.playlists[index];
  }

  rejected(index: number): void {
    this.playlist(index).rejected += 1;
  }

  /** Everything so far (a copy, to post). */
  snapshot(): AccountProgress {
    this.dirty = false;
    return { files: [...this.files], playlists: this.playlists.map((p) => ({ ...p })) };
  }

  /** The snapshot when anything changed since the last one. */
  changes(): AccountProgress | undefined {
    return this.dirty ? this.snapshot() : undefined;
  }
}

-- Reverse of track_credits_playlist_positions. Data: a playlist holding a track at several
-- positions keeps its first (the old key allows one), and positions are renumbered 0, 1, … in
-- order; credits after the first are dropped with track_artists (tracks.artist_id keeps the first).

-- DropIndex
DROP INDEX "ix_track_artists_artist_id";

-- DropTable
PRAGMA foreign_keys=off;
DROP TABLE "track_artists";
PRAGMA foreign_keys=on;

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_playlist_tracks" (
    "playlist_id" TEXT NOT NULL,
    "track_id" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "added_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("playlist_id", "track_id"),
    CONSTRAINT "playlist_tracks_playlist_id_fkey" FOREIGN KEY ("playlist_id") REFERENCES "playlists" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "playlist_tracks_track_id_fkey" FOREIGN KEY ("track_id") REFERENCES "tracks" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
-- Data: one entry per track and playlist (its first), positions 0, 1, … in order.
INSERT INTO "new_playlist_tracks" ("added_at", "playlist_id", "position", "track_id")
SELECT "added_at", "playlist_id", row_number() OVER (PARTITION BY "playlist_id" ORDER BY "position") - 1, "track_id"
FROM (SELECT *, row_number() OVER (PARTITION BY "playlist_id", "track_id" ORDER BY "position") AS k FROM "playlist_tracks") WHERE k = 1;
DROP TABLE "playlist_tracks";
ALTER TABLE "new_playlist_tracks" RENAME TO "playlist_tracks";
CREATE INDEX "ix_playlist_tracks_playlist_position" ON "playlist_tracks"("playlist_id", "position");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- Reverse of track_credits_playlist_positions. Data: a playlist holding a track at several
-- positions keeps its first (the old key allows one), and positions are renumbered 0, 1, … in
-- order; credits after the first are dropped with track_artists (tracks.artist_id keeps the first).

-- DropForeignKey
ALTER TABLE "track_artists" DROP CONSTRAINT "track_artists_track_id_fkey";

-- DropForeignKey
ALTER TABLE "track_artists" DROP CONSTRAINT "track_artists_artist_id_fkey";

-- DropIndex
DROP INDEX "ix_playlist_tracks_track_id";

-- Data: one entry per track and playlist, its first.
DELETE FROM "playlist_tracks" p USING "playlist_tracks" q
WHERE p."playlist_id" = q."playlist_id" AND p."track_id" = q."track_id" AND p."position" > q."position";

-- AlterTable
ALTER TABLE "playlist_tracks" DROP CONSTRAINT "playlist_tracks_pkey",
ADD CONSTRAINT "playlist_tracks_pkey" PRIMARY KEY ("playlist_id", "track_id");

-- Data: positions 0, 1, … per playlist, in their order.
UPDATE "playlist_tracks" p SET "position" = r.n - 1
FROM (SELECT "playlist_id", "track_id", row_number() OVER (PARTITION BY "playlist_id" ORDER BY "position") AS n FROM "playlist_tracks") r
WHERE p."playlist_id" = r."playlist_id" AND p."track_id" = r."track_id" AND p."position" <> r.n - 1;

-- DropTable
DROP TABLE "track_artists";

-- CreateIndex
CREATE INDEX "ix_playlist_tracks_playlist_position" ON "playlist_tracks"("playlist_id", "position");

-- DropForeignKey
ALTER TABLE "albums" DROP CONSTRAINT "albums_artist_id_fkey";

-- DropForeignKey
ALTER TABLE "tracks" DROP CONSTRAINT "tracks_artist_id_fkey";

-- DropForeignKey
ALTER TABLE "tracks" DROP CONSTRAINT "tracks_album_id_fkey";

-- DropForeignKey
ALTER TABLE "playlist_tracks" DROP CONSTRAINT "playlist_tracks_playlist_id_fkey";

-- DropForeignKey
ALTER TABLE "playlist_tracks" DROP CONSTRAINT "playlist_tracks_track_id_fkey";

-- DropForeignKey
ALTER TABLE "downloads" DROP CONSTRAINT "downloads_track_id_fkey";

-- DropTable
DROP TABLE "artists";

-- DropTable
DROP TABLE "albums";

-- DropTable
DROP TABLE "tracks";

-- DropTable
DROP TABLE "playlists";

-- DropTable
DROP TABLE "playlist_tracks";

-- DropTable
DROP TABLE "downloads";

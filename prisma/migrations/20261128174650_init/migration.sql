-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "artists" (
    "id" TEXT NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "spotify_uri" VARCHAR(255),
    "musicbrainz_id" VARCHAR(36),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "artists_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "albums" (
    "id" TEXT NOT NULL,
    "title" VARCHAR(255) NOT NULL,
    "artist_id" TEXT NOT NULL,
    "release_year" INTEGER,
    "spotify_uri" VARCHAR(255),
    "musicbrainz_id" VARCHAR(36),
    "artwork_path" VARCHAR(512),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "albums_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tracks" (
    "id" TEXT NOT NULL,
    "title" VARCHAR(255) NOT NULL,
    "artist_id" TEXT NOT NULL,
    "album_id" TEXT,
    "duration_ms" INTEGER NOT NULL DEFAULT 0,
    "track_number" INTEGER,
    "disc_number" INTEGER NOT NULL DEFAULT 1,
    "spotify_uri" VARCHAR(255),
    "musicbrainz_id" VARCHAR(36),
    "isrc" VARCHAR(12),
    "file_path" VARCHAR(512),
    "file_size" BIGINT,
    "file_hash" VARCHAR(64),
    "file_hash_algorithm" VARCHAR(20),
    "last_scanned_at" TIMESTAMP(3),
    "is_broken" BOOLEAN NOT NULL DEFAULT false,
    "audio_bitrate" INTEGER,
    "audio_format" VARCHAR(20),
    "audio_sample_rate" INTEGER,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tracks_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "playlists" (
    "id" TEXT NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "description" TEXT,
    "source" VARCHAR(20) NOT NULL DEFAULT 'manual',
    "spotify_uri" VARCHAR(255),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "playlists_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "playlist_tracks" (
    "playlist_id" TEXT NOT NULL,
    "track_id" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "added_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "playlist_tracks_pkey" PRIMARY KEY ("playlist_id","track_id")
);

-- CreateTable
CREATE TABLE "downloads" (
    "id" TEXT NOT NULL,
    "track_id" TEXT NOT NULL,
    "status" VARCHAR(20) NOT NULL DEFAULT 'pending',
    "priority" INTEGER NOT NULL DEFAULT 0,
    "target_path" VARCHAR(512),
    "source_url" VARCHAR(1024),
    "progress_percent" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "error_message" TEXT,
    "started_at" TIMESTAMP(3),
    "completed_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "downloads_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "artists_spotify_uri_key" ON "artists"("spotify_uri");

-- CreateIndex
CREATE UNIQUE INDEX "artists_musicbrainz_id_key" ON "artists"("musicbrainz_id");

-- CreateIndex
CREATE INDEX "ix_artists_updated_at" ON "artists"("updated_at");

-- CreateIndex
CREATE UNIQUE INDEX "albums_spotify_uri_key" ON "albums"("spotify_uri");

-- CreateIndex
CREATE UNIQUE INDEX "albums_musicbrainz_id_key" ON "albums"("musicbrainz_id");

-- CreateIndex
CREATE INDEX "ix_albums_title_artist" ON "albums"("title", "artist_id");

-- CreateIndex
CREATE INDEX "ix_albums_artist_id" ON "albums"("artist_id");

-- CreateIndex
CREATE INDEX "ix_albums_updated_at" ON "albums"("updated_at");

-- CreateIndex
CREATE UNIQUE INDEX "tracks_spotify_uri_key" ON "tracks"("spotify_uri");

-- CreateIndex
CREATE UNIQUE INDEX "tracks_musicbrainz_id_key" ON "tracks"("musicbrainz_id");

-- CreateIndex
CREATE UNIQUE INDEX "tracks_isrc_key" ON "tracks"("isrc");

-- CreateIndex
CREATE INDEX "ix_tracks_title_artist" ON "tracks"("title", "artist_id");

-- CreateIndex
CREATE INDEX "ix_tracks_file_hash" ON "tracks"("file_hash");

-- CreateIndex
CREATE INDEX "ix_tracks_album_track_number" ON "tracks"("album_id", "track_number");

-- CreateIndex
CREATE INDEX "ix_tracks_album_disc_track" ON "tracks"("album_id", "disc_number", "track_number");

-- CreateIndex
CREATE INDEX "ix_tracks_file_path" ON "tracks"("file_path");

-- CreateIndex
CREATE INDEX "ix_tracks_updated_at" ON "tracks"("updated_at");

-- CreateIndex
CREATE INDEX "ix_tracks_last_scanned_at" ON "tracks"("last_scanned_at");

-- CreateIndex
CREATE INDEX "ix_tracks_broken_updated" ON "tracks"("is_broken", "updated_at");

-- CreateIndex
CREATE UNIQUE INDEX "playlists_spotify_uri_key" ON "playlists"("spotify_uri");

-- CreateIndex
CREATE INDEX "ix_playlist_tracks_playlist_position" ON "playlist_tracks"("playlist_id", "position");

-- CreateIndex
CREATE UNIQUE INDEX "downloads_track_id_key" ON "downloads"("track_id");

-- CreateIndex
CREATE INDEX "ix_downloads_status_priority" ON "downloads"("status", "priority");

-- CreateIndex
CREATE INDEX "ix_downloads_completed_at" ON "downloads"("completed_at");

-- AddForeignKey
ALTER TABLE "albums" ADD CONSTRAINT "albums_artist_id_fkey" FOREIGN KEY ("artist_id") REFERENCES "artists"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tracks" ADD CONSTRAINT "tracks_artist_id_fkey" FOREIGN KEY ("artist_id") REFERENCES "artists"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tracks" ADD CONSTRAINT "tracks_album_id_fkey" FOREIGN KEY ("album_id") REFERENCES "albums"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "playlist_tracks" ADD CONSTRAINT "playlist_tracks_playlist_id_fkey" FOREIGN KEY ("playlist_id") REFERENCES "playlists"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "playlist_tracks" ADD CONSTRAINT "playlist_tracks_track_id_fkey" FOREIGN KEY ("track_id") REFERENCES "tracks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "downloads" ADD CONSTRAINT "downloads_track_id_fkey" FOREIGN KEY ("track_id") REFERENCES "tracks"("id") ON DELETE CASCADE ON UPDATE CASCADE;

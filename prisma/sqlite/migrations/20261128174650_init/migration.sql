-- CreateTable
CREATE TABLE "artists" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "spotify_uri" TEXT,
    "musicbrainz_id" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "albums" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "title" TEXT NOT NULL,
    "artist_id" TEXT NOT NULL,
    "release_year" INTEGER,
    "spotify_uri" TEXT,
    "musicbrainz_id" TEXT,
    "artwork_path" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "albums_artist_id_fkey" FOREIGN KEY ("artist_id") REFERENCES "artists" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "tracks" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "title" TEXT NOT NULL,
    "artist_id" TEXT NOT NULL,
    "album_id" TEXT,
    "duration_ms" INTEGER NOT NULL DEFAULT 0,
    "track_number" INTEGER,
    "disc_number" INTEGER NOT NULL DEFAULT 1,
    "spotify_uri" TEXT,
    "musicbrainz_id" TEXT,
    "isrc" TEXT,
    "file_path" TEXT,
    "file_size" BIGINT,
    "file_hash" TEXT,
    "file_hash_algorithm" TEXT,
    "last_scanned_at" DATETIME,
    "is_broken" BOOLEAN NOT NULL DEFAULT false,
    "audio_bitrate" INTEGER,
    "audio_format" TEXT,
    "audio_sample_rate" INTEGER,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "tracks_artist_id_fkey" FOREIGN KEY ("artist_id") REFERENCES "artists" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "tracks_album_id_fkey" FOREIGN KEY ("album_id") REFERENCES "albums" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "playlists" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "source" TEXT NOT NULL DEFAULT 'manual',
    "spotify_uri" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "playlist_tracks" (
    "playlist_id" TEXT NOT NULL,
    "track_id" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "added_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("playlist_id", "track_id"),
    CONSTRAINT "playlist_tracks_playlist_id_fkey" FOREIGN KEY ("playlist_id") REFERENCES "playlists" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "playlist_tracks_track_id_fkey" FOREIGN KEY ("track_id") REFERENCES "tracks" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "downloads" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "track_id" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "priority" INTEGER NOT NULL DEFAULT 0,
    "target_path" TEXT,
    "source_url" TEXT,
    "progress_percent" REAL NOT NULL DEFAULT 0,
    "error_message" TEXT,
    "started_at" DATETIME,
    "completed_at" DATETIME,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "downloads_track_id_fkey" FOREIGN KEY ("track_id") REFERENCES "tracks" ("id") ON DELETE CASCADE ON UPDATE CASCADE
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

-- DropIndex
DROP INDEX "ix_artists_name";

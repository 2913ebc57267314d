export { ArtistRepository, type ArtistInput } from './artist-repository.js';
export { AlbumRepository, type AlbumInput } from './album-repository.js';
export { TrackRepository, type TrackInput, type TrackUpdate, type UpsertReport } from './track-repository.js';
export {
  PlaylistRepository,
  PLAYLIST_SOURCES,
  MAX_PAGE_SIZE,
  type PlaylistInput,
  type PlaylistUpdate,
  type PlaylistWithTracks,
  type PlaylistEntry,
  type PlaylistSource,
} from './playlist-repository.js';
export {
  DownloadRepository,
  DOWNLOAD_STATUSES,
  TRANSITIONS,
  type DownloadInput,
  type DownloadStatus,
  type DownloadWithTrack,
  type Transition,
} from './download-repository.js';
export { ValidationError, NotFoundError, ConflictError, InvalidTransitionError } from './errors.js';
export type { RepositoryHooks } from './hooks.js';
export { PARAMETER_LIMIT } from './sql.js';

import type { RepositoryHooks } from '../repositories/hooks.js';
import { readFileSync } from 'node:fs';
import type { Config } from '../config.js';
import { LRUCache } from '../cache/lru-cache.js';
import { SharedCacheTier, trackCacheNamespace } from '../cache/shared-tier.js';
import { toDatabaseError, withDatabase } from '../db/client.js';
import { ExitCode, UsageError, describeError, type ExitCodeValue } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { loadSpotifyConfig, type SpotifyConfig } from './config.js';
import { SpotifyFetcher, type Answer, type FetchFailure, type FetchReport, type LookupCache } from './fetcher.js';
import { parseTrackIds } from './ids.js';
import { findIncompleteTracks, SpotifyLibraryWriter, type LibraryWriteReport } from './library.js';
import type { SpotifyClock } from './rate-limit.js';
import { RequestBudget } from './shared-budget.js';

export interface SpotifyFetchRequest {
  /** Ids, spotify:track: URIs or open.spotify.com links from the command line. */
  ids: string[];
  /** A file with one id, URI or link per line (`-` = stdin); blank lines and `#` comments skipped. */
  file?: string;
  /** Add the library's tracks that have a spotify_uri but incomplete metadata. */
  missing?: boolean;
  /** ISO 3166-1 alpha-2 market (track relinking). */
  market?: string;
}

export interface SpotifyFetchDeps {
  config: Config;
  /** Default: loadSpotifyConfig() from the environment and .env. */
  spotify?: SpotifyConfig;
  logger?: Logger;
  /** Default: an LRUCache of SPOTIFY_CACHE_SIZE entries. */
  cache?: LookupCache;
  /** Hooks of a shared CachedTrackReader, so the tracks this run writes leave its cache. */
  trackHooks?: RepositoryHooks;
  clock?: SpotifyClock;
  onProgress?: (done: number, total: number) => void;
  /** Text of the file `-` (stdin); tests pass it directly. */
  readStdin?: () => string;
  /**
   * Ctrl-C: the fetch stops starting batches and aborts its requests in flight; what was fetched
   * is still saved and summarized (exit code INTERRUPTED).
   */
  signal?: AbortSignal;
}

/** The summary of a run (what the command prints). */
export interface SpotifyFetchSummary {
  requested: number;
  fromLibrary: number;
  fromCache: number;
  fetched: number;
  notFound: string[];
  failed: FetchFailure[];
  requests: number;
  batchRequests: number;
  singleRequests: number;
  retries: number;
  rateLimitWaitSeconds: number;
  tokenRequests: number;
  perTrackFallback: boolean;
  library: Omit<LibraryWriteReport, 'failed'>;
  /** The request budget (SPOTIFY_REQUESTS_PER_SECOND, RATE_LIMIT_URL), when one was in force. */
  budget?: { shared: boolean; waits: number; waitSeconds: number; sharedPauses: number };
  elapsedSeconds: number;
  /** Ctrl-C stopped the run (the ids not fetched are failed as `interrupted`). */
  interrupted: boolean;
  /** Why the run stopped early, or why it failed as a whole. */
  error?: string;
  exitCode: ExitCodeValue;
}

const MARKET = /^[A-Za-z]{2}$/;

function listSome(values: string[], max = 5): string {
  const shown = values.slice(0, max).map((v) => JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v));
  return values.length > max ? `${shown.join(', ')} and ${values.length - max} more` : shown.join(', ');
}

function readIdFile(path: string, readStdin?: () => string): string[] {
  let text: string;
  try {
    text = path === '-' ? (readStdin ? readStdin() : readFileSync(0, 'utf8')) : readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--file: expected a readable file of track ids, got ${path} (${describeError(error)}); check the path`);
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line !== '');
}

/** Checks the request and returns the ids it names (usage errors before any network or database). */
function resolveRequestIds(request: SpotifyFetchRequest, readStdin?: () => string): { ids: string[]; market?: string } {
  if (request.market !== undefined && !MARKET.test(request.market)) {
    throw new UsageError(`--market: expected a two-letter country code such as DE or US, got "${request.market}"`);
  }
  const inputs = [...request.ids, ...(request.file ? readIdFile(request.file, readStdin) : [])];
  const parsed = parseTrackIds(inputs);
  if (parsed.malformed.length > 0) {
    throw new UsageError(
      `expected Spotify track ids (22 letters and digits), spotify:track: URIs or open.spotify.com/track links, got ${parsed.malformed.length} malformed: ${listSome(parsed.malformed)}; fix or remove them (nothing was fetched)`,
    );
  }
  if (parsed.ids.length === 0 && !request.missing) {
    throw new UsageError('expected track ids, --file <path> or --missing, got none; see soulspot spotify-fetch --help');
  }
  return { ids: parsed.ids, market: request.market?.toUpperCase() };
}

/** The exit code and the one-line error of a finished run. */
export function judge(report: FetchReport, databaseFailures: number, failedTotal: number, notFound: number): { exitCode: ExitCodeValue; error?: string } {
  if (report.interrupted) {
    const left = report.failed.filter((f) => f.kind === 'interrupted').length;
    return {
      exitCode: ExitCode.INTERRUPTED,
      error: `interrupted: ${left} of ${report.requested} id(s) not fetched; what was fetched is saved; run the same command again to fetch the rest`,
    };
  }
  if (report.fatal) return { exitCode: ExitCode.EXTERNAL, error: report.fatal.message };
  const asked = report.requested - report.fromCache;
  const unavailable = report.failed.filter((f) => f.kind === 'unavailable');
  // Every id that needed a request failed as unavailable: not one answer came back.
  if (asked > 0 && unavailable.length === asked) {
    return {
      exitCode: ExitCode.EXTERNAL,
      error: `Spotify API unreachable for the whole run (${unavailable[0].reason.replace(/^Spotify API /, '')}); check SPOTIFY_API_URL and the network, then rerun`,
    };
  }
  if (databaseFailures > 0) return { exitCode: ExitCode.DATABASE, error: `${databaseFailures} fetched track(s) could not be saved; see the failures` };
  if (failedTotal > 0 || notFound > 0) return { exitCode: ExitCode.PARTIAL };
  return { exitCode: ExitCode.OK };
}

/**
 * `soulspot spotify-fetch`: resolves the ids (arguments, file, --missing), fetches their
 * metadata in batches of 50, upserts tracks, artists and albums, and returns the summary with
 * its exit code. Expected failures of single ids are in the summary, not thrown.
 */
export async function runSpotifyFetch(request: SpotifyFetchRequest, deps: SpotifyFetchDeps): Promise<SpotifyFetchSummary> {
  const logger = deps.logger ?? silentLogger;
  const { ids: requestIds, market } = resolveRequestIds(request, deps.readStdin);
  const spotify = deps.spotify ?? loadSpotifyConfig();
  const started = performance.now();

  return withDatabase(
    deps.config,
    async (db) => {
      let ids = requestIds;
      let invalid: FetchFailure[] = [];
      let fromLibrary = 0;
      if (request.missing) {
        let incomplete;
        try {
          incomplete = await findIncompleteTracks(db);
        } catch (error) {
          throw toDatabaseError(error, 'reading the library');
        }
        fromLibrary = incomplete.ids.length;
        invalid = incomplete.invalid;
        ids = [...new Set([...ids, ...incomplete.ids])];
        logger.info(`${fromLibrary} library track(s) with a spotify_uri have incomplete metadata`);
      }
      // With CACHE_URL, the tracks this run writes leave the shared tier and every process's cache.
      const tier = deps.trackHooks || !deps.config.cacheUrl ? undefined : await SharedCacheTier.connect({ url: deps.config.cacheUrl, namespace: trackCacheNamespace(deps.config.databaseUrl), logger });
      const hooks: RepositoryHooks | undefined = deps.trackHooks ?? (tier && { onTracksWritten: (trackIds) => tier.invalidate(trackIds) });
      const writer = new SpotifyLibraryWriter(db, { hooks });
      const cache = deps.cache ?? new LRUCache<string, Answer>({ maxSize: spotify.cacheSize });
      const budget = await RequestBudget.open({ requestsPerSecond: spotify.requestsPerSecond, url: deps.config.rateLimitUrl, clientId: spotify.clientId, logger });
      const fetcher = new SpotifyFetcher(spotify, { cache, clock: deps.clock, logger, budget });
      let report: FetchReport;
      let written: LibraryWriteReport;
      try {
        try {
          report = await fetcher.fetchTracks(ids, { market, onProgress: deps.onProgress, onTracks: (tracks) => writer.add(tracks), signal: deps.signal });
        } finally {
          budget?.close();
        }
        // Also after Ctrl-C: what was fetched is saved (the tracks of a write batch go in one transaction).
        written = await writer.close();
      } finally {
        tier?.close();
      }
      const failed = [...invalid, ...report.failed, ...written.failed];
      const verdict = judge(report, written.failed.length, failed.length, report.notFound.length);
      const { failed: _ignored, ...library } = written;
      return {
        requested: report.requested + invalid.length,
        fromLibrary,
        fromCache: report.fromCache,
        fetched: report.tracks.length - written.failed.length,
        notFound: report.notFound,
        failed,
        requests: report.client.requests,
        batchRequests: report.client.batchRequests,
        singleRequests: report.client.singleRequests,
        retries: report.client.retries,
        rateLimitWaitSeconds: Math.round(report.client.rateLimitWaitMs / 100) / 10,
        tokenRequests: report.client.tokenRequests,
        perTrackFallback: report.perTrackFallback,
        library,
        budget: budget && {
          shared: budget.stats.shared,
          waits: budget.stats.budgetWaits,
          waitSeconds: Math.round(budget.stats.budgetWaitMs / 100) / 10,
          sharedPauses: budget.stats.sharedPauses,
        },
        elapsedSeconds: Math.round((performance.now() - started) / 100) / 10,
        interrupted: report.interrupted,
        error: verdict.error,
        exitCode: verdict.exitCode,
      };
    },
    { logger },
  );
}

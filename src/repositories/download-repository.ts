import type { Database } from '../db/client.js';
import type { Download, Track } from '../generated/sqlite/client.js';
import { ConflictError, InvalidTransitionError, NotFoundError, ValidationError } from './errors.js';
import { found, isForeignKeyViolation, isUniqueViolation } from './sql.js';
import { Checker, INT32_MAX } from './validation.js';

export const DOWNLOAD_STATUSES = ['pending', 'queued', 'downloading', 'completed', 'failed', 'cancelled'] as const;
export type DownloadStatus = (typeof DOWNLOAD_STATUSES)[number];
export type DownloadWithTrack = Download & { track: Track };

export interface DownloadInput {
  trackId: string;
  /** A new download waits: pending (default) or queued. */
  status?: 'pending' | 'queued';
  /** Higher = sooner (default 0). */
  priority?: number;
  targetPath?: string | null;
  sourceUrl?: string | null;
}

/**
 * The state machine of DESIGN.md: which statuses each transition leaves from.
 * `resume` is the inverse of `pause` (queued → downloading, keeping progress and started_at);
 * `start` begins afresh (progress 0, started_at now).
 */
export const TRANSITIONS = {
  start: { from: ['pending', 'queued'], to: 'downloading' },
  complete: { from: ['downloading'], to: 'completed' },
  fail: { from: DOWNLOAD_STATUSES, to: 'failed' },
  cancel: { from: ['pending', 'queued', 'downloading', 'cancelled'], to: 'cancelled' },
  pause: { from: ['downloading'], to: 'queued' },
  resume: { from: ['queued'], to: 'downloading' },
} as const satisfies Record<string, { from: readonly DownloadStatus[]; to: DownloadStatus }>;
export type Transition = keyof typeof TRANSITIONS;

const WAITING: DownloadStatus[] = ['pending', 'queued'];

/** Downloads: one per track, a priority queue and guarded status transitions. */
export class DownloadRepository {
  constructor(private readonly db: Database) {}

  /** Queues a download for a track (one per track). */
  async create(input: DownloadInput): Promise<DownloadWithTrack> {
    const shape: Checker = new Checker('download');
    shape.object(input);
    const check = new Checker(`download of track ${String(input.trackId)}`);
    const data = {
      trackId: check.text('trackId', input.trackId, 36),
      status: check.oneOf('status', input.status, ['pending', 'queued'] as const) ?? 'pending',
      priority: (check.int('priority', input.priority, -INT32_MAX, INT32_MAX, false) as number | undefined) ?? 0,
      targetPath: check.optionalText('targetPath', input.targetPath, 512) ?? null,
      sourceUrl: check.optionalText('sourceUrl', input.sourceUrl, 1024) ?? null,
    };
    try {
      return await this.db.prisma.download.create({ data, include: { track: true } });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`track ${data.trackId} already has a download; use it (getByTrack) instead of creating another`, { cause: error });
      if (isForeignKeyViolation(error)) throw new ValidationError(`download: track ${data.trackId} does not exist; import it first`, { cause: error });
      throw error;
    }
  }

  async getById(id: string): Promise<DownloadWithTrack | undefined> {
    return found(this.db.prisma.download.findUnique({ where: { id }, include: { track: true } }));
  }

  async getByTrack(trackId: string): Promise<DownloadWithTrack | undefined> {
    return found(this.db.prisma.download.findUnique({ where: { trackId }, include: { track: true } }));
  }

  /**
   * The next downloads to run: pending or queued, highest priority first, then oldest
   * (backed by `ix_downloads_status_priority`).
   */
  nextInQueue(limit = 10): Promise<DownloadWithTrack[]> {
    new Checker('nextInQueue').int('limit', limit, 1, 100_000, false);
    return this.db.prisma.download.findMany({
      where: { status: { in: WAITING } },
      orderBy: [{ priority: 'desc' }, { createdAt: 'asc' }, { id: 'asc' }],
      take: limit,
      include: { track: true },
    });
  }

  /**
   * Downloads completed at or after `since`, in completion order (backed by
   * `ix_downloads_completed_at`; only completed downloads carry completed_at).
   */
  listCompleted(since: Date, options: { limit?: number } = {}): Promise<DownloadWithTrack[]> {
    const check = new Checker('listCompleted');
    check.date('since', since, false);
    check.int('limit', options.limit, 1, 1_000_000, false);
    return this.db.prisma.download.findMany({
      where: { completedAt: { gte: since } },
      orderBy: [{ completedAt: 'asc' }, { id: 'asc' }],
      take: options.limit,
      include: { track: true },
    });
  }

  /** Number of downloads in each status (every status present, 0 when none). */
  async countByStatus(): Promise<Record<DownloadStatus, number>> {
    const counts = Object.fromEntries(DOWNLOAD_STATUSES.map((s) => [s, 0])) as Record<DownloadStatus, number>;
    const groups = await this.db.prisma.download.groupBy({ by: ['status'], _count: { _all: true } });
    for (const group of groups) counts[group.status as DownloadStatus] = group._count._all;
    return counts;
  }

  /** pending|queued → downloading; progress 0, started_at now. */
  start(id: string): Promise<Download> {
    return this.transition(id, 'start', { startedAt: new Date(), progressPercent: 0, errorMessage: null, completedAt: null });
  }

  /** downloading → completed; progress 100, completed_at now. */
  complete(id: string): Promise<Download> {
    return this.transition(id, 'complete', { progressPercent: 100, completedAt: new Date(), errorMessage: null });
  }

  /** any → failed, with the reason. */
  fail(id: string, errorMessage: string): Promise<Download> {
    const message = new Checker(`download ${id}`).text('errorMessage', errorMessage, 10_000);
    return this.transition(id, 'fail', { errorMessage: message, completedAt: null });
  }

  /** pending|queued|downloading → cancelled (never a finished one). */
  cancel(id: string): Promise<Download> {
    return this.transition(id, 'cancel', { completedAt: null });
  }

  /** downloading → queued, keeping its progress. */
  pause(id: string): Promise<Download> {
    return this.transition(id, 'pause', {});
  }

  /** queued → downloading, keeping its progress and started_at (set now if it never started). */
  async resume(id: string): Promise<Download> {
    const download = await this.transition(id, 'resume', {});
    if (download.startedAt) return download;
    return this.db.prisma.download.update({ where: { id }, data: { startedAt: new Date() } });
  }

  /** Progress of a running download, 0–100. */
  async updateProgress(id: string, percent: number): Promise<Download> {
    new Checker(`download ${id}`).number('progressPercent', percent, 0, 100);
    const { count } = await this.db.prisma.download.updateMany({ where: { id, status: 'downloading' }, data: { progressPercent: percent } });
    if (count === 0) await this.refuse(id, 'update progress of', ['downloading']);
    return (await this.db.prisma.download.findUnique({ where: { id } }))!;
  }

  /**
   * Compare-and-set: the row changes only if its status is still one the transition leaves from,
   * so two workers racing on one download cannot both win. updated_at is refreshed by Prisma.
   */
  private async transition(id: string, name: Transition, data: Partial<Download>): Promise<Download> {
    const { from, to } = TRANSITIONS[name];
    const { count } = await this.db.prisma.download.updateMany({
      where: { id, status: { in: [...from] } },
      data: { ...data, status: to },
    });
    if (count === 0) await this.refuse(id, name, from);
    return (await this.db.prisma.download.findUnique({ where: { id } }))!;
  }

  private async refuse(id: string, what: string, from: readonly string[]): Promise<never> {
    const current = await this.db.prisma.download.findUnique({ where: { id }, select: { status: true } });
    if (!current) throw new NotFoundError('download', id);
    throw new InvalidTransitionError(id, current.status, what, from);
  }
}

import type { Database } from '../../src/db/client.js';
import { ExitCode } from '../../src/errors.js';
import { ArtistRepository } from '../../src/repositories/artist-repository.js';
import { TrackRepository } from '../../src/repositories/track-repository.js';
import { DownloadRepository } from '../../src/repositories/download-repository.js';
import { ConflictError, InvalidTransitionError, NotFoundError, ValidationError } from '../../src/repositories/errors.js';
import { providers } from '../helpers/db.js';
import { openTestDatabase, statementsOf } from './helpers.js';

describe.each(providers)('DownloadRepository on %s', (provider) => {
  let db: Database;
  let done: () => Promise<void>;
  let repo: DownloadRepository;
  let trackIds: string[];
  let next = 0;
  const freshTrack = () => trackIds[next++];

  beforeAll(async () => {
    ({ db, done } = await openTestDatabase(provider));
    repo = new DownloadRepository(db);
    const [artist] = await new ArtistRepository(db).getOrCreateBatch([{ name: 'Portishead' }]);
    trackIds = await new TrackRepository(db).addBatchReturningIds(Array.from({ length: 1200 }, (_, i) => ({ title: `t${i}`, artistId: artist.id })));
  });
  afterAll(() => done());

  test('create, getById and getByTrack return the download with its track', async () => {
    const trackId = freshTrack();
    const created = await repo.create({ trackId, priority: 5, targetPath: '/music/x.flac' });
    expect(created).toMatchObject({ trackId, status: 'pending', priority: 5, progressPercent: 0, track: { id: trackId, title: expect.any(String) } });
    expect((await repo.getById(created.id))!.track.id).toBe(trackId);
    expect((await repo.getByTrack(trackId))!.id).toBe(created.id);
    expect(await repo.getById('nope')).toBeUndefined();
    await expect(repo.create({ trackId })).rejects.toBeInstanceOf(ConflictError);
    await expect(repo.create({ trackId: '00000000-0000-4000-8000-000000000000' })).rejects.toThrow(/track 00000000-0000-4000-8000-000000000000 does not exist/);
    await expect(repo.create({ trackId: freshTrack(), status: 'completed' as never })).rejects.toThrow(/status must be one of pending, queued, got "completed"/);
  });

  test('the whole life of a download: start, progress, pause, resume, complete', async () => {
    const d = await repo.create({ trackId: freshTrack(), status: 'queued' });
    await new Promise((r) => setTimeout(r, 10));
    const started = await repo.start(d.id);
    expect(started).toMatchObject({ status: 'downloading', progressPercent: 0 });
    expect(started.startedAt).toBeInstanceOf(Date);
    expect(started.updatedAt.getTime()).toBeGreaterThan(d.updatedAt.getTime());
    expect((await repo.updateProgress(d.id, 42.5)).progressPercent).toBe(42.5);
    await expect(repo.updateProgress(d.id, 101)).rejects.toThrow(/progressPercent must be a number from 0 to 100, got 101/);
    await expect(repo.updateProgress(d.id, -1)).rejects.toBeInstanceOf(ValidationError);
    const paused = await repo.pause(d.id);
    expect(paused).toMatchObject({ status: 'queued', progressPercent: 42.5 });
    const resumed = await repo.resume(d.id);
    expect(resumed).toMatchObject({ status: 'downloading', progressPercent: 42.5, startedAt: started.startedAt });
    const completed = await repo.complete(d.id);
    expect(completed).toMatchObject({ status: 'completed', progressPercent: 100 });
    expect(completed.completedAt).toBeInstanceOf(Date);
  });

  test('invalid transitions throw a typed error naming the download, its state and the transition', async () => {
    const d = await repo.create({ trackId: freshTrack() });
    const refused = async (p: Promise<unknown>, status: string, transition: string) => {
      const error = await p.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidTransitionError);
      const e = error as InvalidTransitionError;
      expect(e).toMatchObject({ downloadId: d.id, status, transition, exitCode: ExitCode.USAGE });
      expect(e.message).toContain(`download ${d.id} is ${status}; cannot ${transition} it`);
    };
    await refused(repo.complete(d.id), 'pending', 'complete');
    await refused(repo.pause(d.id), 'pending', 'pause');
    await refused(repo.resume(d.id), 'pending', 'resume');
    await refused(repo.updateProgress(d.id, 5), 'pending', 'update progress of');
    await repo.start(d.id);
    await refused(repo.start(d.id), 'downloading', 'start');
    await repo.complete(d.id);
    await refused(repo.cancel(d.id), 'completed', 'cancel');
    const failed = await repo.fail(d.id, 'checksum mismatch');
    expect(failed).toMatchObject({ status: 'failed', errorMessage: 'checksum mismatch', completedAt: null });
    await refused(repo.cancel(d.id), 'failed', 'cancel');
    await refused(repo.start(d.id), 'failed', 'start');
    expect((await repo.getById(d.id))!.status).toBe('failed');
    await expect(repo.start('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(NotFoundError);
    const c = await repo.create({ trackId: freshTrack() });
    expect((await repo.cancel(c.id)).status).toBe('cancelled');
  });

  test('two workers racing to start one download: exactly one wins', async () => {
    const d = await repo.create({ trackId: freshTrack() });
    const results = await Promise.allSettled([repo.start(d.id), repo.start(d.id), repo.start(d.id)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')) expect(r.reason).toBeInstanceOf(InvalidTransitionError);
  });

  test('nextInQueue: waiting downloads, highest priority first, then oldest; countByStatus', async () => {
    await db.prisma.download.deleteMany({});
    const low = await repo.create({ trackId: freshTrack(), priority: 1 });
    const high = await repo.create({ trackId: freshTrack(), priority: 9, status: 'queued' });
    const lowLater = await repo.create({ trackId: freshTrack(), priority: 1 });
    const running = await repo.create({ trackId: freshTrack(), priority: 99 });
    await repo.start(running.id);
    const queue = await repo.nextInQueue(10);
    expect(queue.map((d) => d.id)).toEqual([high.id, low.id, lowLater.id]);
    expect(queue[0].track.id).toBe(high.trackId);
    expect((await repo.nextInQueue(1)).map((d) => d.id)).toEqual([high.id]);
    expect(await repo.countByStatus()).toEqual({ pending: 2, queued: 1, downloading: 1, completed: 0, failed: 0, cancelled: 0 });
  });

  test('listCompleted returns downloads completed since a time', async () => {
    const before = new Date(Date.now() - 1000);
    const d = await repo.create({ trackId: freshTrack() });
    await repo.start(d.id);
    await repo.complete(d.id);
    const list = await repo.listCompleted(before);
    expect(list.map((x) => x.id)).toContain(d.id);
    expect(list.every((x) => x.status === 'completed' && x.completedAt! >= before)).toBe(true);
    expect(list.find((x) => x.id === d.id)!.track.id).toBe(d.trackId);
    expect(await repo.listCompleted(new Date(Date.now() + 60_000))).toEqual([]);
  });

  test('eager loading takes a constant number of statements from 1 to 1,000 downloads', async () => {
    await db.prisma.download.deleteMany({});
    const since = new Date(Date.now() - 60_000);
    const count = async (fn: () => Promise<unknown>) => (await statementsOf(db, fn)).sql.length;
    const first = await repo.create({ trackId: trackIds[100] });
    await db.prisma.download.updateMany({ data: { status: 'completed', completedAt: new Date() } });
    await db.prisma.download.create({ data: { trackId: trackIds[101], status: 'queued' } });
    const one = [await count(() => repo.nextInQueue(1000)), await count(() => repo.listCompleted(since)), await count(() => repo.getById(first.id)), await count(() => repo.getByTrack(first.trackId))];
    await db.prisma.download.createMany({ data: trackIds.slice(102, 1101).map((trackId) => ({ trackId, status: 'queued', priority: 1 })) });
    await db.prisma.download.createMany({ data: trackIds.slice(1101, 1200).map((trackId) => ({ trackId, status: 'completed', completedAt: new Date() })) });
    await db.prisma.download.updateMany({ where: { status: 'completed' }, data: { completedAt: new Date() } });
    const many = [
      await count(async () => expect(await repo.nextInQueue(1000)).toHaveLength(1000)),
      await count(async () => expect(await repo.listCompleted(since)).toHaveLength(100)),
      await count(() => repo.getById(first.id)),
      await count(() => repo.getByTrack(first.trackId)),
    ];
    expect(one.every((n) => n <= 2)).toBe(true);
    expect(many).toEqual(one);
  });
});

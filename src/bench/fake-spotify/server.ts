import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake Spotify (accounts + Web API tracks endpoints) on a real HTTP server at 127.0.0.1, for
 * tests and benchmarks. It never calls the network. Faults are scripted per request.
 */

/** What the fake does to one API request instead of answering it normally. */
export type Fault =
  /** 429 with `Retry-After` (seconds or an HTTP date). */
  | { type: 'rate-limit'; retryAfter: number | string }
  /** 429 whose body says QUOTA_EXCEEDED. */
  | { type: 'quota' }
  /** Any status, e.g. 500, 502, 503, 400, with an optional body. */
  | { type: 'status'; status: number; body?: string }
  /** Destroys the connection without an answer. */
  | { type: 'drop' }
  /** Never answers (the client's timeout must fire). */
  | { type: 'hang' }
  /** 200 with headers at once, then the body one byte every `intervalMs` (default 1000). */
  | { type: 'trickle'; intervalMs?: number }
  /** 200 with a Content-Length, half the body, then the connection is closed. */
  | { type: 'cut' }
  /** 401 as if the token had expired. */
  | { type: 'unauthorized' }
  /** 200 with a body that is not JSON. */
  | { type: 'garbage' };

export interface ApiRequestInfo {
  kind: 'batch' | 'single';
  ids: string[];
  market?: string;
  /** 1-based number of this API request (tokens excluded). */
  n: number;
  /** When it arrived (performance.now() of the server's process, ms). */
  at: number;
  /** The bearer token it carried: tells the client processes apart (each fetches its own token). */
  token?: string;
  /** The fault served to it, if one was. */
  fault?: Fault['type'];
}

export interface FakeSpotifyOptions {
  clientId?: string;
  clientSecret?: string;
  /** `expires_in` of issued tokens; the fake rejects a token with 401 once it is that old. Default 3600. */
  tokenTtlSeconds?: number;
  /** Delay before each API answer (ms), or a function of the request. Default 0. */
  latencyMs?: number | ((request: ApiRequestInfo) => number);
  /** Delay before each token answer (ms). Default 0. */
  tokenLatencyMs?: number;
  /** Ids that do not exist (null in a batch, 404 alone). */
  unknownIds?: Iterable<string>;
  /** Track object of an id (null = not found); default: a deterministic generated track. */
  catalog?: (id: string) => Record<string, unknown> | null;
  /** Refuse the several-tracks endpoint with 403 (Spotify does so for apps in development mode). */
  forbidSeveral?: boolean;
  /** Faults served to the next API requests, in order, one each. */
  faults?: Fault[];
  /** A fault for a given request (checked after `faults` is empty). */
  faultFor?: (request: ApiRequestInfo) => Fault | undefined;
  /** Faults served to the next token requests, in order. */
  tokenFaults?: Fault[];
}

export interface FakeSpotifyStats {
  tokenRequests: number;
  /** Several-tracks requests (GET /v1/tracks?ids=…). */
  batchRequests: number;
  /** Single-track requests (GET /v1/tracks/{id}). */
  singleRequests: number;
  /** batchRequests + singleRequests. */
  apiRequests: number;
  /** Ids asked for, summed over API requests. */
  idsRequested: number;
  /** Largest number of API requests in progress at once. */
  maxInFlight: number;
  /** Most ids in one API request. */
  maxIdsPerRequest: number;
  /** API requests refused with 401 for an unknown or expired token. */
  unauthorized: number;
  faultsServed: number;
}

const ID = /^[0-9A-Za-z]{22}$/;

function hashOf(text: string): Buffer {
  return createHash('sha1').update(text).digest();
}

/** A deterministic track for `id`: 400 artists, 800 albums, a unique-looking ISRC. */
export function generatedTrack(id: string): Record<string, unknown> {
  const h = hashOf(id);
  const albumNo = h.readUInt32BE(0) % 800;
  const artistNo = albumNo % 400;
  const artistId = `fakeartist${String(artistNo).padStart(12, '0')}`;
  const albumId = `fakealbum${String(albumNo).padStart(13, '0')}`;
  const artist = { id: artistId, name: `Artist ${artistNo}`, uri: `spotify:artist:${artistId}`, type: 'artist' };
  const year = 1960 + (albumNo % 60);
  const isrc = `QZ${h.toString('hex').slice(0, 3).toUpperCase()}${String(h.readUInt32BE(4) % 10_000_000).padStart(7, '0')}`;
  return {
    id,
    name: `Track ${id.slice(0, 6)}`,
    uri: `spotify:track:${id}`,
    type: 'track',
    duration_ms: 120_000 + (h.readUInt32BE(8) % 240_000),
    track_number: 1 + (h[12] % 15),
    disc_number: 1 + (h[13] % 2),
    explicit: false,
    external_ids: { isrc },
    artists: [artist],
    album: {
      id: albumId,
      name: `Album ${albumNo}`,
      uri: `spotify:album:${albumId}`,
      release_date: `${year}-0${1 + (albumNo % 9)}-1${albumNo % 10}`,
      release_date_precision: 'day',
      artists: [artist],
    },
  };
}

/** A running fake Spotify. `url` serves both SPOTIFY_ACCOUNTS_URL and SPOTIFY_API_URL. */
export class FakeSpotify {
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  options: FakeSpotifyOptions;
  readonly stats: FakeSpotifyStats = FakeSpotify.emptyStats();
  /** Every API request, in arrival order. */
  readonly log: ApiRequestInfo[] = [];
  private readonly tokens = new Map<string, number>();
  private unknown: Set<string>;
  private inFlight = 0;
  private readonly faults: Fault[];
  private readonly tokenFaults: Fault[];
  private readonly hanging = new Set<ServerResponse>();
  private readonly generated = new Map<string, string>();

  private constructor(
    private readonly server: Server,
    options: FakeSpotifyOptions,
  ) {
    const address = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${address.port}`;
    this.options = options;
    this.clientId = options.clientId ?? 'fake-client-id';
    this.clientSecret = options.clientSecret ?? 'fake-client-secret-0123456789';
    this.unknown = new Set(options.unknownIds ?? []);
    this.faults = [...(options.faults ?? [])];
    this.tokenFaults = [...(options.tokenFaults ?? [])];
  }

  private static emptyStats(): FakeSpotifyStats {
    return { tokenRequests: 0, batchRequests: 0, singleRequests: 0, apiRequests: 0, idsRequested: 0, maxInFlight: 0, maxIdsPerRequest: 0, unauthorized: 0, faultsServed: 0 };
  }

  /** Starts a fake on 127.0.0.1 at a free port. */
  static async start(options: FakeSpotifyOptions = {}): Promise<FakeSpotify> {
    // eslint-disable-next-line prefer-const -- the request handler below reads it; the fake needs the listening server first
    let fake: FakeSpotify | undefined;
    const server = createServer((req, res) => {
      fake!.handle(req, res).catch((error: Error) => {
        if (!res.headersSent) res.writeHead(500).end(String(error.message));
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    fake = new FakeSpotify(server, options);
    return fake;
  }

  /** Environment variables pointing a client at this fake with valid credentials. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      SPOTIFY_CLIENT_ID: this.clientId,
      SPOTIFY_CLIENT_SECRET: this.clientSecret,
      SPOTIFY_ACCOUNTS_URL: this.url,
      SPOTIFY_API_URL: this.url,
      ...extra,
    };
  }

  /** Faults for the next API requests (appended to those still queued). */
  queueFaults(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  queueTokenFaults(...faults: Fault[]): void {
    this.tokenFaults.push(...faults);
  }

  setUnknownIds(ids: Iterable<string>): void {
    this.unknown = new Set(ids);
  }

  /** Makes every token issued so far invalid (as if they had expired early). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  resetStats(): void {
    Object.assign(this.stats, FakeSpotify.emptyStats());
    this.log.length = 0;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.socket?.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    if (req.method === 'POST' && url.pathname === '/api/token') return this.handleToken(req, res);
    if (req.method === 'GET' && url.pathname === '/v1/tracks') {
      const ids = (url.searchParams.get('ids') ?? '').split(',').filter((s) => s !== '');
      return this.handleApi(req, res, { kind: 'batch', ids, market: url.searchParams.get('market') ?? undefined, n: 0, at: performance.now() });
    }
    const single = /^\/v1\/tracks\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && single) {
      return this.handleApi(req, res, { kind: 'single', ids: [decodeURIComponent(single[1])], market: url.searchParams.get('market') ?? undefined, n: 0, at: performance.now() });
    }
    sendJson(res, 404, { error: { status: 404, message: 'Service not found' } });
  }

  private async handleToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.tokenRequests++;
    const body = await readBody(req);
    if (this.options.tokenLatencyMs) await delay(this.options.tokenLatencyMs);
    const fault = this.tokenFaults.shift();
    if (fault) {
      this.stats.faultsServed++;
      return this.serveFault(res, fault);
    }
    const expected = `Basic ${Buffer.from(`${this.clientId}:${this.clientSecret}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      return sendJson(res, 400, { error: 'invalid_client', error_description: 'Invalid client secret' });
    }
    if (new URLSearchParams(body).get('grant_type') !== 'client_credentials') {
      return sendJson(res, 400, { error: 'unsupported_grant_type', error_description: 'grant_type must be client_credentials' });
    }
    const token = `fake-token-${randomBytes(12).toString('hex')}`;
    const ttl = this.options.tokenTtlSeconds ?? 3600;
    this.tokens.set(token, Date.now() + ttl * 1000);
    sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: ttl });
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse, info: ApiRequestInfo): Promise<void> {
    const s = this.stats;
    s.apiRequests++;
    info.n = s.apiRequests;
    if (info.kind === 'batch') s.batchRequests++;
    else s.singleRequests++;
    s.idsRequested += info.ids.length;
    s.maxIdsPerRequest = Math.max(s.maxIdsPerRequest, info.ids.length);
    info.token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    this.log.push(info);
    this.inFlight++;
    s.maxInFlight = Math.max(s.maxInFlight, this.inFlight);
    try {
      const latency = typeof this.options.latencyMs === 'function' ? this.options.latencyMs(info) : (this.options.latencyMs ?? 0);
      if (latency > 0) await delay(latency);
      const fault = this.faults.shift() ?? this.options.faultFor?.(info);
      if (fault) {
        s.faultsServed++;
        info.fault = fault.type;
        return this.serveFault(res, fault);
      }
      const expiresAt = info.token ? this.tokens.get(info.token) : undefined;
      if (expiresAt === undefined || expiresAt <= Date.now()) {
        s.unauthorized++;
        return sendJson(res, 401, { error: { status: 401, message: expiresAt === undefined ? 'Invalid access token' : 'The access token expired' } });
      }
      if (info.kind === 'batch') {
        if (this.options.forbidSeveral) return sendJson(res, 403, { error: { status: 403, message: 'Forbidden' } });
        if (info.ids.length === 0) return sendJson(res, 400, { error: { status: 400, message: 'No ids requested' } });
        if (info.ids.length > 50) return sendJson(res, 400, { error: { status: 400, message: 'Too many ids requested' } });
        if (info.ids.some((id) => !ID.test(id))) return sendJson(res, 400, { error: { status: 400, message: 'invalid id' } });
        return sendText(res, 200, `{"tracks":[${info.ids.map((id) => this.lookupText(id)).join(',')}]}`);
      }
      const id = info.ids[0];
      if (!ID.test(id)) return sendJson(res, 400, { error: { status: 400, message: 'invalid id' } });
      const track = this.lookupText(id);
      if (track === 'null') return sendJson(res, 404, { error: { status: 404, message: 'Non existing id' } });
      return sendText(res, 200, track);
    } finally {
      this.inFlight--;
    }
  }

  /** The JSON text of a track, or `null`. Generated tracks are kept, so the fake spends little CPU in benchmarks. */
  private lookupText(id: string): string {
    if (this.unknown.has(id)) return 'null';
    if (this.options.catalog) return JSON.stringify(this.options.catalog(id));
    let text = this.generated.get(id);
    if (text === undefined) {
      text = JSON.stringify(generatedTrack(id));
      if (this.generated.size >= 100_000) this.generated.clear();
      this.generated.set(id, text);
    }
    return text;
  }

  private serveFault(res: ServerResponse, fault: Fault): void {
    switch (fault.type) {
      case 'rate-limit':
        res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': String(fault.retryAfter) });
        res.end(JSON.stringify({ error: { status: 429, message: 'API rate limit exceeded' } }));
        return;
      case 'quota':
        res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '86400' });
        res.end(JSON.stringify({ error: { status: 429, message: 'QUOTA_EXCEEDED' } }));
        return;
      case 'status':
        res.writeHead(fault.status, { 'Content-Type': 'application/json' });
        res.end(fault.body ?? JSON.stringify({ error: { status: fault.status, message: `fake status ${fault.status}` } }));
        return;
      case 'drop':
        res.socket?.destroy();
        return;
      case 'hang':
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return;
      case 'trickle': {
        const body = Buffer.from(JSON.stringify({ tracks: [] }));
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
        res.flushHeaders();
        let sent = 0;
        const timer = setInterval(() => {
          res.write(body.subarray(sent, ++sent));
          if (sent === body.length) res.end();
        }, fault.intervalMs ?? 1000);
        this.hanging.add(res);
        res.on('close', () => {
          clearInterval(timer);
          this.hanging.delete(res);
        });
        return;
      }
      case 'cut': {
        const body = JSON.stringify({ tracks: [], padding: 'x'.repeat(100) });
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
        res.write(body.slice(0, body.length / 2), () => res.socket?.destroy());
        return;
      }
      case 'unauthorized':
        this.stats.unauthorized++;
        sendJson(res, 401, { error: { status: 401, message: 'The access token expired' } });
        return;
      case 'garbage':
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<html>upstream proxy error</html>');
        return;
    }
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendText(res, status, JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

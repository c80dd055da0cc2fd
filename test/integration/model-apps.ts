/**
 * The apps of the model-based test: an Express, a Fastify (the `dynamodbSessions` plugin) and a Koa
 * app with the same routes (the React Router and Hono apps are in model-web-apps.ts). Each answers
 * what its request loaded and what it left, so that the test can hold every request against its
 * model of the session.
 *
 * Every route is a POST; its parameters are JSON in the query (`c`, `next`: a {@link Change}):
 * - `/read`: changes nothing
 * - `/change?c=`: one change
 * - `/save-twice?c=&next=&wait=1`: `c`, an explicit save (awaited with `wait=1`, else still running
 *   while `next` is made), then `next`, then the framework's own save at the end of the request
 *   (React Router: two commits of the session)
 * - `/reload?c=&next=`: `c`, a reload from the store (which discards `c`), then `next` (not Koa)
 * - `/regenerate?keep=1&next=`: a new session id, with the data kept (`keep=1`) or not, then `next`
 * - `/destroy`: logout (React Router: `then=`, a change and a commit of the session after it)
 * Any route given `g=<gate>` waits once its session is loaded, until the test releases the gate.
 */
import { createServer, type Server } from 'node:http';
import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import Fastify, { type FastifyRequest } from 'fastify';
import Koa from 'koa';
import { DynamoDBStore as ExpressStore } from '../../adapters/express.ts';
import { dynamodbSessions } from '../../adapters/fastify.ts';
import { dynamodbSession } from '../../adapters/koa.ts';
import { listen } from './helpers.ts';
import { pass } from './protocol-apps.ts';

export type Framework = 'express' | 'fastify' | 'koa';
export type Data = Record<string, unknown>;
export type Scalar = string | number | boolean | null;
/** A nested value the in-place changes work on: an array and an object under one top-level key. */
export interface Box {
  items: unknown[];
  tags: Data;
}

/**
 * One change of one top-level key, made by a route exactly as the model makes it. `flash` (a value
 * read once) and `take` (a read, which ends a flash value) are React Router's and hono-sessions'.
 */
export type Change =
  | { op: 'set'; key: string; value: Scalar | Box }
  | { op: 'delete'; key: string }
  | { op: 'push'; key: string; item: Scalar }
  | { op: 'splice'; key: string; start: number; deleteCount: number; items: Scalar[] }
  | { op: 'sort'; key: string; reverse: boolean }
  | { op: 'assign'; key: string; index: number; item: Scalar }
  | { op: 'setIn'; key: string; sub: string; value: Scalar }
  | { op: 'deleteIn'; key: string; sub: string }
  | { op: 'date'; key: string; sub: string | null; ms: number }
  | { op: 'buffer'; key: string; sub: string | null; bytes: number[] }
  | { op: 'flash'; key: string; value: Scalar | Box }
  | { op: 'take'; key: string };

/** What a route answers: the session as loaded and as left (JSON), and its id before and after. */
export interface Answer {
  idBefore: string | null;
  idAfter: string | null;
  before: Data;
  /** `null` after a logout. */
  after: Data | null;
}

function isBox(v: unknown): v is Box {
  if (typeof v !== 'object' || v === null) return false;
  const { items, tags } = v as Record<string, unknown>;
  return Array.isArray(items) && typeof tags === 'object' && tags !== null && !Array.isArray(tags);
}

/**
 * A session as a route changes it: a plain object's keys (Express, Fastify, Koa), or a session's
 * `get`/`set`/`unset`/`flash` (React Router, hono-sessions), whose `get` ends a flash value.
 */
export interface SessionView {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  unset(key: string): void;
  flash(key: string, value: unknown): void;
}

/** A plain object's keys as a {@link SessionView}: the object is the session. */
function recordView(s: Data): SessionView {
  return {
    get: (key) => s[key],
    set: (key, value) => {
      s[key] = value;
    },
    unset: (key) => {
      delete s[key];
    },
    flash: () => {
      throw new Error('flash is a change of a React Router or hono-sessions session');
    },
  };
}

/** The box under `key`, in place; a key holding anything else is first given an empty box. */
function boxOf(s: SessionView, key: string): Box {
  const v = s.get(key);
  if (isBox(v)) return v;
  const fresh: Box = { items: [], tags: {} };
  s.set(key, fresh);
  return fresh;
}

/** Applies a change to a session's data, in place below the top level where the change says so. */
export function applyChange(s: Data, c: Change): void {
  changeSession(recordView(s), c);
}

/** Applies a change to a session, in place below the top level where the change says so. */
export function changeSession(s: SessionView, c: Change): void {
  switch (c.op) {
    case 'set':
      s.set(c.key, c.value);
      return;
    case 'delete':
      s.unset(c.key);
      return;
    case 'flash':
      s.flash(c.key, c.value);
      return;
    case 'take':
      s.get(c.key);
      return;
    case 'push':
      boxOf(s, c.key).items.push(c.item);
      return;
    case 'splice':
      boxOf(s, c.key).items.splice(c.start, c.deleteCount, ...c.items);
      return;
    case 'sort': {
      const items = boxOf(s, c.key).items;
      if (c.reverse) items.reverse();
      else items.sort();
      return;
    }
    case 'assign':
      boxOf(s, c.key).items[c.index] = c.item;
      return;
    case 'setIn':
      boxOf(s, c.key).tags[c.sub] = c.value;
      return;
    case 'deleteIn':
      delete boxOf(s, c.key).tags[c.sub];
      return;
    case 'date':
    case 'buffer': {
      const value = c.op === 'date' ? new Date(c.ms) : Buffer.from(c.bytes);
      if (c.sub === null) s.set(c.key, value);
      else boxOf(s, c.key).tags[c.sub] = value;
      return;
    }
  }
}

/** The session's data as JSON stores it (no cookie, no framework fields). */
export function jsonOf(data: Data): Data {
  return JSON.parse(JSON.stringify(data));
}

// ---- gates: a request held between the load and the save of its session (protocol-apps' own) ----

export { Gate } from './protocol-apps.ts';

// ---- one route logic, every framework ----

/** What a route needs of a framework's session. */
export interface Handle {
  /** Makes a change on the live session (the one reload and regenerate leave). */
  change(c: Change): void;
  /** Its data as JSON. */
  snapshot(): Data;
  id(): string | null;
  save(): Promise<void>;
  /** The explicit save writes the cookie (koa-session): the answer has to wait for it. */
  saveSetsCookie: boolean;
  reload(): Promise<void>;
  regenerate(keep: boolean): Promise<void>;
  destroy(): Promise<void>;
  /** The save the route itself makes before it answers (React Router's `commitSession`). */
  end?(): Promise<void>;
}

export type Query = Record<string, unknown>;

function changeOf(text: unknown): Change {
  if (typeof text !== 'string') throw new Error('a change is required');
  return JSON.parse(text);
}

/** Server-side state the test reads: errors no answer carries, saves still running. */
export class Tracker {
  readonly errors: unknown[] = [];
  readonly #pending = new Set<Promise<void>>();

  /** A save the route does not wait for: its failure can only reach the log. */
  track(p: Promise<void>): void {
    const settled = p.catch((err: unknown) => {
      this.errors.push(err);
    });
    this.#pending.add(settled);
    void settled.then(() => this.#pending.delete(settled));
  }

  async idle(): Promise<void> {
    await Promise.all([...this.#pending]);
  }
}

export async function act(action: string, q: Query, h: Handle, tracker: Tracker): Promise<Answer> {
  const idBefore = h.id();
  const before = h.snapshot();
  await pass(q.g);
  switch (action) {
    case 'read':
      break;
    case 'change':
      h.change(changeOf(q.c));
      break;
    case 'save-twice': {
      h.change(changeOf(q.c));
      const saved = h.save();
      if (q.wait === '1') await saved;
      h.change(changeOf(q.next));
      // koa-session's save() sets the cookie, so it must end before the answer; the others' may run on
      if (q.wait !== '1') {
        if (h.saveSetsCookie) await saved;
        else tracker.track(saved);
      }
      break;
    }
    case 'reload':
      h.change(changeOf(q.c));
      await h.reload();
      h.change(changeOf(q.next));
      break;
    case 'regenerate':
      await h.regenerate(q.keep === '1');
      if (q.next !== undefined) h.change(changeOf(q.next));
      break;
    case 'destroy':
      await h.destroy();
      if (q.then !== undefined) {
        h.change(changeOf(q.then));
        await h.end?.();
      }
      return { idBefore, idAfter: q.then === undefined ? null : h.id(), before, after: null };
    default:
      throw new Error(`no route ${action}`);
  }
  await h.end?.();
  return { idBefore, idAfter: h.id(), before, after: h.snapshot() };
}

function withoutCookie(s: object): Data {
  return jsonOf(Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'cookie')));
}

/** ms */
const DAY_MS = 86_400_000;
export const secret = 'a model test secret of at least thirty-two characters';

export interface ModelAppConfig {
  framework: Framework;
  tableName: string;
  /** The client the store is given; ignored with `clientConfig` (the store then makes its own). */
  client: DynamoDBClient;
  clientConfig?: DynamoDBClientConfig;
  cacheSize?: number;
  touchAfter?: number;
}

/** One server on 127.0.0.1 with its own store. */
export interface ModelApp {
  readonly base: string;
  /** Errors of this server that no answer carried (a save after the answer, one left running). */
  readonly errors: unknown[];
  /** Resolves once the saves the routes left running are done. */
  idle(): Promise<void>;
  /** The store's `stats().conflicts` (0 where it is not counted). */
  conflicts(): number;
  close(): Promise<void>;
}

export function engineOptions(config: Omit<ModelAppConfig, 'framework'>) {
  return {
    ...(config.clientConfig ? { clientConfig: config.clientConfig } : { client: config.client }),
    tableName: config.tableName,
    ...(config.cacheSize !== undefined && { cacheSize: config.cacheSize }),
    ...(config.touchAfter !== undefined && { touchAfter: config.touchAfter }),
  };
}

export function conflictsIn(stats: object): number {
  const n = (stats as { conflicts?: unknown }).conflicts;
  return typeof n === 'number' ? n : 0;
}

/** A model app served by `server` (listening once this resolves), its store closed with it. */
export async function served(
  server: Server,
  tracker: Tracker,
  store: { engine: { stats(): object }; close(): void },
): Promise<ModelApp> {
  const base = await listen(server);
  return {
    base,
    errors: tracker.errors,
    idle: () => tracker.idle(),
    conflicts: () => conflictsIn(store.engine.stats()),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        store.close();
      }),
  };
}

export function startModelApp(config: ModelAppConfig): Promise<ModelApp> {
  if (config.framework === 'express') return startExpress(config);
  if (config.framework === 'fastify') return startFastify(config);
  return startKoa(config);
}

/** express-session's callback methods as promises. */
function promised(call: (cb: (err?: unknown) => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => call((err) => (err ? reject(err) : resolve())));
}

async function startExpress(config: ModelAppConfig): Promise<ModelApp> {
  const tracker = new Tracker();
  const store = new ExpressStore(engineOptions(config));
  const app = express();
  app.use(session({ store, secret, resave: false, saveUninitialized: false, cookie: { maxAge: DAY_MS } }));
  app.post('/:action', async (req: Request, res: Response) => {
    const live = () => req.session as unknown as Data;
    const handle: Handle = {
      change: (c) => applyChange(live(), c),
      snapshot: () => withoutCookie(req.session),
      id: () => req.sessionID,
      save: () => promised((cb) => req.session.save(cb)),
      saveSetsCookie: false,
      reload: () => promised((cb) => req.session.reload(cb)),
      async regenerate(keep) {
        // kept as passport's keepSessionInfo keeps it: the same objects, on the new session
        const old = Object.entries(live()).filter(([k]) => k !== 'cookie');
        await promised((cb) => req.session.regenerate(cb));
        if (keep) for (const [k, v] of old) live()[k] = v;
      },
      destroy: () => promised((cb) => req.session.destroy(cb)),
    };
    res.json(await act(String(req.params.action), req.query, handle, tracker));
  });
  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    tracker.errors.push(err);
    // express-session ends a response whose save failed after the answer was written
    if (!res.headersSent) res.status(500).json({ error: err.message });
  });
  const server = createServer(app);
  return served(server, tracker, store);
}

async function startFastify(config: ModelAppConfig): Promise<ModelApp> {
  const tracker = new Tracker();
  const app = Fastify();
  await app.register(dynamodbSessions, {
    secret,
    ...engineOptions(config),
    cookie: { secure: false, maxAge: DAY_MS },
  });
  app.addHook('onError', async (_request, _reply, error) => {
    tracker.errors.push(error);
  });
  app.post('/:action', async (req: FastifyRequest) => {
    const live = () => req.session as unknown as Data;
    const handle: Handle = {
      change: (c) => applyChange(live(), c),
      snapshot: () => withoutCookie(req.session),
      id: () => req.session.sessionId,
      save: () => req.session.save(),
      saveSetsCookie: false,
      reload: () => req.session.reload(),
      // the kept keys are copied by @fastify/session itself: the same objects, on the new session
      regenerate: (keep) =>
        keep ? req.session.regenerate(Object.keys(withoutCookie(req.session))) : req.session.regenerate(),
      destroy: () => req.session.destroy(),
    };
    const { action } = req.params as { action: string };
    return act(action, req.query as Query, handle, tracker);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    base: `http://127.0.0.1:${port}`,
    errors: tracker.errors,
    idle: () => tracker.idle(),
    conflicts: () => conflictsIn(app.dynamodbStore.engine.stats()),
    close: () => app.close(),
  };
}

/** What a route sees as `ctx.session` (koa-session's `Session`). */
interface KoaSession {
  [key: string]: unknown;
  externalKey: string | undefined;
  toJSON(): Data;
  save(): Promise<void>;
  regenerate(): Promise<void>;
}

async function startKoa(config: ModelAppConfig): Promise<ModelApp> {
  const tracker = new Tracker();
  const app = new Koa();
  app.keys = [secret];
  app.silent = true;
  app.on('error', (err: unknown) => tracker.errors.push(err));
  const middleware = dynamodbSession(app, { ...engineOptions(config), session: { maxAge: DAY_MS } });
  app.use(middleware);
  app.use(async (ctx) => {
    const live = () => ctx.session as unknown as KoaSession;
    // koa-session's Session keeps the key it was made with: after regenerate the new key is unknown here
    let regenerated = false;
    const handle: Handle = {
      change: (c) => applyChange(live(), c),
      snapshot: () => jsonOf(live().toJSON()),
      id: () => (regenerated ? null : (live().externalKey ?? null)),
      save: () => live().save(),
      saveSetsCookie: true,
      reload: () => Promise.reject(new Error('koa-session has no reload')),
      async regenerate(keep) {
        // koa-session keeps the data through regenerate, and saves it at once
        if (!keep) for (const k of Object.keys(live().toJSON())) delete live()[k];
        await live().regenerate();
        regenerated = true;
      },
      async destroy() {
        ctx.session = null;
      },
    };
    if (ctx.method !== 'POST') {
      ctx.status = 404;
      return;
    }
    ctx.body = await act(ctx.path.slice(1), ctx.query, handle, tracker);
  });
  const server = createServer(app.callback());
  return served(server, tracker, middleware.store);
}

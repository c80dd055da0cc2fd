/**
 * The apps the save-protocol tests attack: one Express, Fastify (plugin or bare store) and Koa app
 * with the same routes, a gate that holds a request between the load and the save of its session,
 * and raw access to the table behind the apps' back.
 *
 * Routes (the same on every framework; every one but logout answers what the request saw, `Seen`):
 * - `POST /login?name=`: sets `user`
 * - `GET  /read`: changes nothing
 * - `POST /set?key=&value=`: sets one key
 * - `POST /unset?key=`: deletes one key
 * - `POST /remember`: changes only the cookie, to last 30 days ("remember me")
 * - `POST /logout`: destroys the session
 * Any route given `gate=<name>` waits at its start (its session is loaded) until the test releases it.
 */
import { createServer, type Server } from 'node:http';
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  type DynamoDBClientConfig,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import Koa from 'koa';
import { DynamoDBStore as ExpressStore } from '../../adapters/express.ts';
import { dynamodbSessions, DynamoDBStore as FastifyStore } from '../../adapters/fastify.ts';
import { dynamodbSession } from '../../adapters/koa.ts';
import type { StatsSnapshot } from '../../src/index.ts';
import { keyOf, listen, within } from './helpers.ts';

export type Framework = 'express' | 'fastify' | 'fastify-bare' | 'koa';

/** ms */
export const DAY_MS = 86_400_000;
/** ms: the lifetime "remember me" gives the cookie */
export const REMEMBER_MS = 30 * DAY_MS;
/** ms a held request waits for its release before it fails (500): no request hangs the run */
const GATE_HOLD_MS = 15_000;
/** The secret (and Koa's key) of every app: tests sign cookies with it as a browser would get them. */
export const secret = 'a protocol test secret of at least thirty-two characters';

/** What a route saw: the session id, its data (no cookie, no framework fields), its lifetime in ms. */
export interface Seen {
  id: string | null;
  data: Record<string, unknown>;
  maxAgeMs: number | null;
}

export interface AppConfig {
  framework: Framework;
  client: DynamoDBClient;
  /** Given, the store makes its own client with it (the direct path) instead of using `client`. */
  clientConfig?: DynamoDBClientConfig;
  tableName: string;
  /** Engine options beside `client` and `tableName`. */
  engine?: { cacheSize?: number; touchAfter?: number };
  /** koa-session's `rolling` (its default: false); Express and Fastify keep their defaults. */
  rolling?: boolean;
  /** The framework's session id generator (`genid`, `idGenerator`). */
  genid?: () => string;
}

/** One server listening on 127.0.0.1, with its own store. */
export interface ProtocolApp {
  readonly framework: Framework;
  readonly base: string;
  /** The session cookie's name. */
  readonly cookieName: string;
  /** The store's `stats()`. */
  stats(): StatsSnapshot;
  close(): Promise<void>;
}

interface Held {
  arrive: () => void;
  released: Promise<void>;
}

const held = new Map<string, Held>();
let gateCount = 0;

/** Holds the request that names it (`?gate=<name>`) after its session was loaded, until `release()`. */
export class Gate {
  readonly name = `g${++gateCount}`;
  readonly #arrived: Promise<void>;
  #release = () => {};

  constructor() {
    let arrive = () => {};
    this.#arrived = new Promise<void>((resolve) => {
      arrive = resolve;
    });
    const released = new Promise<void>((resolve) => {
      this.#release = resolve;
    });
    held.set(this.name, { arrive, released });
  }

  /** Resolves once the held request has loaded its session and reached its route (bounded). */
  arrived(ms = 10_000): Promise<void> {
    return within(this.#arrived, ms, `the request held by ${this.name} reaching its route`);
  }

  /** Lets the held request go on to its save. */
  release(): void {
    this.#release();
    held.delete(this.name);
  }
}

/** A route's first step: waits at the gate named in the query, if any. */
export async function pass(name: unknown): Promise<void> {
  if (typeof name !== 'string' || name === '') return;
  const gate = held.get(name);
  if (!gate) throw new Error(`no gate ${name}`);
  gate.arrive();
  await within(gate.released, GATE_HOLD_MS, `gate ${name} released`);
}

type Query = Record<string, unknown>;
type Data = Record<string, unknown>;

/** The keys a route changes, whatever the framework. */
function change(path: string, s: Data, q: Query): void {
  if (path === '/login') s.user = String(q.name);
  else if (path === '/set') s[String(q.key)] = String(q.value);
  else if (path === '/unset') delete s[String(q.key)];
}

function dataOf(s: object, skip: (key: string) => boolean): Data {
  const data: Data = {};
  for (const [k, v] of Object.entries(s)) if (!skip(k)) data[k] = v;
  return data;
}

export async function startApp(config: AppConfig): Promise<ProtocolApp> {
  switch (config.framework) {
    case 'express':
      return startExpress(config);
    case 'koa':
      return startKoa(config);
    default:
      return startFastify(config);
  }
}

function engineOptions(config: AppConfig) {
  const where = config.clientConfig ? { clientConfig: config.clientConfig } : { client: config.client };
  return { ...where, tableName: config.tableName, ...config.engine };
}

async function serve(
  framework: Framework,
  server: Server,
  cookieName: string,
  stats: () => StatsSnapshot,
): Promise<ProtocolApp> {
  const base = await listen(server);
  return {
    framework,
    base,
    cookieName,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function startExpress(config: AppConfig): Promise<ProtocolApp> {
  const store = new ExpressStore(engineOptions(config));
  const app = express();
  app.use(
    session({
      store,
      secret,
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: DAY_MS },
      ...(config.genid && { genid: config.genid }),
    }),
  );
  const seen = (req: Request): Seen => ({
    id: req.sessionID,
    data: dataOf(req.session, (k) => k === 'cookie'),
    maxAgeMs: req.session.cookie.originalMaxAge ?? null,
  });
  const route = (path: string) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      await pass(req.query.gate);
      if (path === '/logout') {
        req.session.destroy((err) => (err ? next(err) : res.json({ ok: true })));
        return;
      }
      if (path === '/remember') req.session.cookie.maxAge = REMEMBER_MS;
      change(path, req.session as unknown as Data, req.query);
      res.json(seen(req));
    } catch (err) {
      next(err);
    }
  };
  app.get('/read', route('/read'));
  for (const path of ['/login', '/set', '/unset', '/remember', '/logout']) app.post(path, route(path));
  app.use((err: { status?: number; code?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (!res.headersSent) res.status(err.status ?? 500).json({ code: err.code });
  });
  return serve('express', createServer(app), 'connect.sid', () => store.engine.stats());
}

async function startFastify(config: AppConfig): Promise<ProtocolApp> {
  const app: FastifyInstance = Fastify();
  let store: FastifyStore;
  if (config.framework === 'fastify-bare') {
    store = new FastifyStore(engineOptions(config));
    await app.register(fastifyCookie);
    await app.register(fastifySession, {
      secret,
      store,
      cookie: { secure: false, maxAge: DAY_MS },
      ...(config.genid && { idGenerator: config.genid }),
    });
  } else {
    await app.register(dynamodbSessions, {
      secret,
      ...engineOptions(config),
      cookie: { maxAge: DAY_MS },
      ...(config.genid && { idGenerator: config.genid }),
    });
    store = app.dynamodbStore;
  }
  const seen = (req: FastifyRequest): Seen => ({
    id: req.session.sessionId,
    data: dataOf(req.session, (k) => k === 'cookie'),
    maxAgeMs: req.session.cookie.originalMaxAge ?? null,
  });
  const route = (path: string) => async (req: FastifyRequest) => {
    const q = req.query as Query;
    await pass(q.gate);
    if (path === '/logout') {
      await req.session.destroy();
      return { ok: true };
    }
    if (path === '/remember') req.session.cookie.maxAge = REMEMBER_MS;
    change(path, req.session as unknown as Data, q);
    return seen(req);
  };
  app.get('/read', route('/read'));
  for (const path of ['/login', '/set', '/unset', '/remember', '/logout']) app.post(path, route(path));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    framework: config.framework,
    base: `http://127.0.0.1:${port}`,
    cookieName: 'sessionId',
    stats: () => store.engine.stats(),
    close: () => app.close(),
  };
}

/** What a route sees as `ctx.session` (koa-session's `Session`). */
interface KoaSession {
  [key: string]: unknown;
  externalKey: string | undefined;
  maxAge: number | 'session' | undefined;
  toJSON(): Data;
}

async function startKoa(config: AppConfig): Promise<ProtocolApp> {
  const app = new Koa();
  app.keys = [secret];
  app.silent = true;
  const middleware = dynamodbSession(app, {
    ...engineOptions(config),
    session: {
      maxAge: DAY_MS,
      rolling: config.rolling ?? false,
      ...(config.genid && { genid: config.genid }),
    },
  });
  app.use(middleware);
  app.use(async (ctx) => {
    const post = ['/login', '/set', '/unset', '/remember', '/logout'];
    if (
      !(ctx.method === 'GET' && ctx.path === '/read') &&
      !(ctx.method === 'POST' && post.includes(ctx.path))
    ) {
      ctx.status = 404;
      return;
    }
    await pass(ctx.query.gate);
    if (ctx.path === '/logout') {
      ctx.session = null;
      ctx.body = { ok: true };
      return;
    }
    const s = ctx.session as unknown as KoaSession;
    if (ctx.path === '/remember') s.maxAge = REMEMBER_MS;
    change(ctx.path, s, ctx.query);
    const maxAge = s.maxAge;
    ctx.body = {
      id: s.externalKey ?? null,
      data: s.toJSON(),
      maxAgeMs: typeof maxAge === 'number' ? maxAge : null,
    } satisfies Seen;
  });
  return serve('koa', createServer(app.callback()), 'koa.sess', () => middleware.store.engine.stats());
}

/** `conflicts` of a store's `stats()`: conflicts resolved by merging; `undefined` where it is not counted. */
export function conflictsOf(app: ProtocolApp): number | undefined {
  const n = (app.stats() as { conflicts?: unknown }).conflicts;
  return typeof n === 'number' ? n : undefined;
}

/** The table as the apps leave it, read and changed behind their back. */
export class RawTable {
  constructor(
    readonly client: DynamoDBClient,
    readonly tableName: string,
  ) {}

  #key(id: string): Record<string, AttributeValue> {
    return { id: { S: keyOf(id) } };
  }

  /** The item of a session id, read with ConsistentRead. */
  async item(id: string): Promise<Record<string, AttributeValue> | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: this.#key(id), ConsistentRead: true }),
    );
    return out.Item;
  }

  /** An admin's DeleteItem, or DynamoDB TTL removing the item. */
  async delete(id: string): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: this.#key(id) }));
  }

  /** Sets the item's expiry (epoch seconds): in the past, the item is expired but TTL has not removed it. */
  async setExpiry(id: string, expiresAtSec: number): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.#key(id),
        UpdateExpression: 'SET #e = :e',
        ConditionExpression: 'attribute_exists(#e)',
        ExpressionAttributeNames: { '#e': 'expires' },
        ExpressionAttributeValues: { ':e': { N: String(expiresAtSec) } },
      }),
    );
  }

  /** The item's expiry, epoch seconds; `undefined` without an item. */
  async expiry(id: string): Promise<number | undefined> {
    const n = (await this.item(id))?.expires?.N;
    return n === undefined ? undefined : Number(n);
  }

  /** The top-level keys of the stored session data (a DynamoDB map in `sess`); `undefined` without data. */
  async dataKeys(id: string): Promise<string[] | undefined> {
    const map = (await this.item(id))?.sess?.M;
    return map ? Object.keys(map).sort() : undefined;
  }

  /** A stored top-level string of the session data. */
  async stored(id: string, key: string): Promise<string | undefined> {
    return (await this.item(id))?.sess?.M?.[key]?.S;
  }
}

export const nowSec = (): number => Math.floor(Date.now() / 1000);

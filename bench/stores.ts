/**
 * The stores compared besides this package's: the raw-SDK floor (one eventually consistent GetItem
 * per request, a PutItem when the session changed, nothing else) for each framework, and the
 * loading of the published express-session stores.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { runInThisContext } from 'node:vm';
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import session from 'express-session';
import type { SessionData as HonoSessionData, Store as HonoStore } from 'hono-sessions';
import type { SessionIdStorageStrategy } from 'react-router';

type Callback<T = void> = (err: unknown, value?: T | null) => void;
const defaultTtlSec = 86_400;

/** A minimal store on the raw SDK: items `{ id, sess: <JSON string>, expires }`. */
export class RawTable {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /** The stored JSON text and expiry of a live session; `null` when absent or expired. */
  async read(id: string): Promise<{ text: string; expiresAtSec: number } | null> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: { id: { S: `sess#${id}` } } }),
    );
    const expiresAtSec = Number(Item?.expires?.N);
    if (Item?.sess?.S === undefined || expiresAtSec <= Date.now() / 1000) return null;
    return { text: Item.sess.S, expiresAtSec };
  }

  async get(id: string): Promise<Record<string, unknown> | null> {
    const item = await this.read(id);
    return item && (JSON.parse(item.text) as Record<string, unknown>);
  }

  async put(id: string, data: unknown, expiresAtSec: number): Promise<void> {
    await this.putText(id, JSON.stringify(data), expiresAtSec);
  }

  async putText(id: string, text: string, expiresAtSec: number): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: {
          id: { S: `sess#${id}` },
          sess: { S: text },
          expires: { N: String(Math.ceil(expiresAtSec)) },
        },
      }),
    );
  }

  async delete(id: string): Promise<void> {
    await this.client.send(
      new DeleteItemCommand({ TableName: this.table, Key: { id: { S: `sess#${id}` } } }),
    );
  }
}

function expiryOf(expires: unknown): number {
  const ms =
    expires instanceof Date ? expires.getTime() : typeof expires === 'string' ? Date.parse(expires) : NaN;
  return Number.isFinite(ms) ? ms / 1000 : Date.now() / 1000 + defaultTtlSec;
}

function settle<T>(p: Promise<T | null>, cb: Callback<T> | undefined): void {
  p.then(
    (v) => cb?.(null, v),
    (e: unknown) => cb?.(e),
  );
}

/** The raw floor for express-session: `touch` does nothing. */
export class RawExpressStore extends session.Store {
  private readonly raw: RawTable;
  constructor(client: DynamoDBClient, table: string) {
    super();
    this.raw = new RawTable(client, table);
  }
  override get(sid: string, cb: Callback<session.SessionData>): void {
    settle(this.raw.get(sid) as Promise<session.SessionData | null>, cb);
  }
  override set(sid: string, sess: session.SessionData, cb?: Callback): void {
    settle(this.raw.put(sid, sess, expiryOf(sess.cookie.expires)), cb);
  }
  override touch(_sid: string, _sess: session.SessionData, cb?: Callback): void {
    cb?.(null);
  }
  override destroy(sid: string, cb?: Callback): void {
    settle(this.raw.delete(sid), cb);
  }
}

interface FastifyLikeSession {
  cookie?: { expires?: Date | null };
  isModified(): boolean;
}

/** The raw floor for @fastify/session (which saves on every request): writes only a changed session. */
export class RawFastifyStore {
  private readonly raw: RawTable;
  constructor(client: DynamoDBClient, table: string) {
    this.raw = new RawTable(client, table);
  }
  get(sid: string, cb: Callback<Record<string, unknown>>): void {
    settle(this.raw.get(sid), cb);
  }
  set(sid: string, sess: FastifyLikeSession, cb: Callback): void {
    if (!sess.isModified()) return void process.nextTick(cb, null);
    settle(this.raw.put(sid, sess, expiryOf(sess.cookie?.expires)), cb);
  }
  destroy(sid: string, cb: Callback): void {
    settle(this.raw.delete(sid), cb);
  }
}

/** The raw floor for koa-session (which only saves a changed session). */
export class RawKoaStore {
  private readonly raw: RawTable;
  constructor(client: DynamoDBClient, table: string) {
    this.raw = new RawTable(client, table);
  }
  get(key: string): Promise<Record<string, unknown> | null> {
    return this.raw.get(key);
  }
  set(key: string, sess: Record<string, unknown>, maxAge: number | 'session' | undefined): Promise<void> {
    const ms = typeof sess._expire === 'number' ? sess._expire : Date.now() + (Number(maxAge) || 86_400_000);
    return this.raw.put(key, sess, ms / 1000);
  }
  destroy(key: string): Promise<void> {
    return this.raw.delete(key);
  }
}

/**
 * The raw floor for hono-sessions (whose middleware saves every request's session, its access time
 * and expiry moved): stores `_data`, with `_expire` as the item's expiry, and writes only when
 * `_data` differs from what was loaded (its stored text, kept per session object). A new session's
 * baseline is no data: hono-sessions creates an empty one for every visitor without a cookie.
 */
export class RawHonoStore implements HonoStore {
  private readonly raw: RawTable;
  private readonly loadedText = new WeakMap<object, string>();
  constructor(client: DynamoDBClient, table: string) {
    this.raw = new RawTable(client, table);
  }
  async getSessionById(sid?: string): Promise<HonoSessionData | null> {
    const item = sid ? await this.raw.read(sid) : null;
    if (!item) return null;
    const session: HonoSessionData = {
      _data: JSON.parse(item.text) as HonoSessionData['_data'],
      _expire: new Date(item.expiresAtSec * 1000).toISOString(),
      _delete: false,
      _accessed: null,
    };
    this.loadedText.set(session, item.text);
    return session;
  }
  createSession(sid: string, initialData: HonoSessionData): Promise<void> {
    return this.persistSessionData(sid, initialData);
  }
  async persistSessionData(sid: string, session: HonoSessionData): Promise<void> {
    const text = JSON.stringify(session._data);
    if (text === (this.loadedText.get(session) ?? '{}')) return;
    await this.raw.putText(sid, text, expiryOf(session._expire));
    this.loadedText.set(session, text);
  }
  deleteSession(sid: string): Promise<void> {
    return this.raw.delete(sid);
  }
}

/**
 * The raw floor for React Router, as `createSessionStorage`'s strategy: `readData` is one GetItem
 * and keeps the stored text per id until that id's `updateData`, which writes only when the data's
 * JSON differs from it; `createData` makes a 256-bit id and writes; `deleteData` deletes.
 */
export function rawReactRouterStrategy(
  client: DynamoDBClient,
  table: string,
): Omit<SessionIdStorageStrategy, 'cookie'> {
  const raw = new RawTable(client, table);
  const readText = new Map<string, string>();
  return {
    async createData(data, expires) {
      const id = randomBytes(32).toString('base64url');
      await raw.put(id, data, expiryOf(expires));
      return id;
    },
    async readData(id) {
      const item = await raw.read(id);
      if (!item) return null;
      readText.set(id, item.text);
      return JSON.parse(item.text) as Record<string, unknown>;
    },
    async updateData(id, data, expires) {
      const text = JSON.stringify(data);
      const was = readText.get(id);
      readText.delete(id);
      if (text !== was) await raw.putText(id, text, expiryOf(expires));
    },
    async deleteData(id) {
      readText.delete(id);
      await raw.delete(id);
    },
  };
}

/** How a published package was loaded: as published, or with a visible fix. */
export interface Loaded<T> {
  value: T;
  note: string | undefined;
}

const require = createRequire(import.meta.url);

/** connect-dynamodb's store class, bound to express-session. */
export function loadConnectDynamoDB(): new (options: Record<string, unknown>) => session.Store {
  const factory = require('connect-dynamodb') as (s: typeof session) => new (o: object) => session.Store;
  return factory(session);
}

type PwrdrvrStore = new (options: Record<string, unknown>) => session.Store;

/**
 * `@pwrdrvr/dynamodb-session-store`. Version 1.1.0 as published cannot be loaded: its compiled
 * `dist/src/dynamodb-store.js` calls TypeScript's `__importDefault` helper without defining it
 * (ReferenceError at require time). Then the same file is evaluated with that standard helper
 * defined, and nothing else changed.
 */
export function loadPwrdrvr(): Loaded<PwrdrvrStore> {
  try {
    const mod = require('@pwrdrvr/dynamodb-session-store') as { DynamoDBStore: PwrdrvrStore };
    return { value: mod.DynamoDBStore, note: undefined };
  } catch (err) {
    if (!(err instanceof ReferenceError && err.message.includes('__importDefault'))) throw err;
    const file = require.resolve('@pwrdrvr/dynamodb-session-store/dist/src/dynamodb-store.js');
    const helper =
      'var __importDefault = function (mod) { return mod && mod.__esModule ? mod : { default: mod }; };\n';
    const wrapper = runInThisContext(
      `(function (exports, require, module, __filename, __dirname) {${helper}${readFileSync(file, 'utf8')}\n})`,
      { filename: file },
    ) as (e: object, r: NodeJS.Require, m: object, f: string, d: string) => void;
    const module = { exports: {} as { DynamoDBStore?: PwrdrvrStore } };
    wrapper(module.exports, createRequire(file), module, file, dirname(file));
    if (!module.exports.DynamoDBStore)
      throw new Error('@pwrdrvr/dynamodb-session-store: no DynamoDBStore export');
    return {
      value: module.exports.DynamoDBStore,
      note:
        `@pwrdrvr/dynamodb-session-store as published fails to load (${err.message}); ` +
        'loaded by evaluating its dist/src/dynamodb-store.js with the missing __importDefault helper defined',
    };
  }
}

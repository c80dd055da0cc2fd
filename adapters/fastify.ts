/**
 * Fastify 5: the `dynamodbSessions` plugin (registers `@fastify/cookie` when missing, then
 * `@fastify/session` with a DynamoDB store), or the bare `DynamoDBStore` for `@fastify/session`.
 * Only translates between `@fastify/session`'s callbacks and the engine.
 * @packageDocumentation
 */
import fastifyCookie from '@fastify/cookie';
import fastifySession, { type FastifySessionOptions, type SessionStore } from '@fastify/session';
import type { FastifyPluginAsync, Session } from 'fastify';
import fp from 'fastify-plugin';
import {
  type DestroyUserSessionsOptions,
  type DestroyUserSessionsResult,
  type EngineOptions,
  InvalidOptionError,
  type ListUserSessionsOptions,
  SessionEngine,
  type SessionRecord,
  type UserSession,
} from '../src/index.js';
import { type Callback, cookieFromData, cookieToData, secondsOf, settle, settleSave } from './shared.js';

export type { Callback } from './shared.js';

/** Options of the bare store: the engine's options. `userId` receives the session's data. @public */
export type DynamoDBStoreOptions = EngineOptions<Session>;

/**
 * The plugin's options: the engine's options (`tableName`, `client`, `touchAfter`, ...) and
 * `@fastify/session`'s (`secret` is required). `cookie.secure` defaults to `'auto'` and
 * `cookie.sameSite` to `'lax'` here, so that sessions also work over plain HTTP in development.
 * @public
 */
export interface DynamoDBSessionsOptions
  extends DynamoDBStoreOptions,
    Pick<
      FastifySessionOptions,
      | 'secret'
      | 'algorithm'
      | 'cookie'
      | 'cookieName'
      | 'cookiePrefix'
      | 'saveUninitialized'
      | 'rolling'
      | 'idGenerator'
    > {}

declare module 'fastify' {
  interface FastifyInstance {
    /** The store made by the `dynamodbSessions` plugin (for `engine.stats()` and per-user operations). */
    dynamodbStore: DynamoDBStore;
  }
}

/**
 * Plain data to store. `cookie.expires` (and `originalExpires`, the expiry the session was loaded
 * with) move on every request: they are left out for a rolling `maxAge` cookie, so an unmodified
 * session has the same JSON text and costs at most a throttled expiry-only write. The item's expiry is
 * the one truth; `get` puts it back.
 */
function toData(session: Session): Session {
  const data: Record<string, unknown> = {};
  for (const key of Object.keys(session)) {
    if (key !== loadKey) data[key] = (session as unknown as Record<string, unknown>)[key];
  }
  // without maxAge, expires is null (browser-session cookie) or a fixed date: it never moves
  const cookie = cookieToData(session.cookie, true);
  if (cookie) data.cookie = cookie;
  return data as unknown as Session;
}

/**
 * What a request loaded, carried from `get` to `set` on the session itself: @fastify/session copies
 * every key of what `get` returns onto the request's session, and keeps nothing else of it. JSON
 * leaves the key out (so do @fastify/session's change detection and `reply.send(request.session)`);
 * it is never stored.
 */
const loadKey = '__dynamodbSessionsLoad';

/** The session's lifetime is its cookie's. */
const lifetimeKeys = ['cookie'];

class Load {
  constructor(
    readonly sessionId: string,
    readonly record: SessionRecord<Session>,
  ) {}
  toJSON(): undefined {
    return undefined;
  }
}

/**
 * A DynamoDB store for `@fastify/session`.
 * @example
 * ```ts
 * import fastifyCookie from '@fastify/cookie';
 * import fastifySession from '@fastify/session';
 * import { DynamoDBStore } from 'dynamodb-sessions/fastify';
 * await app.register(fastifyCookie);
 * await app.register(fastifySession, { secret, store: new DynamoDBStore({ tableName: 'sessions' }) });
 * ```
 * @public
 */
export class DynamoDBStore implements SessionStore {
  /** The engine doing the DynamoDB work (also for `stats()`). */
  readonly engine: SessionEngine<Session>;

  /** Makes no DynamoDB call. A client passed in is never destroyed. @throws InvalidOptionError */
  constructor(options: DynamoDBStoreOptions = {}) {
    this.engine = new SessionEngine(options);
  }

  /** Loads a session; `null` when absent, destroyed or expired; an error (503) when DynamoDB fails. */
  get(sessionId: string, cb: Callback<Session | null>): void {
    settle(
      this.engine.load(sessionId).then((record) => {
        if (!record) return null;
        // @fastify/session regenerates a loaded session whose cookie has expired: this date must be true
        const cookie = cookieFromData(record.data.cookie, record.expiresAtSec, (ms) => new Date(ms));
        // a copy: the record's data is what later saves of this request compare against
        return {
          ...record.data,
          ...(cookie !== undefined && { cookie }),
          [loadKey]: new Load(sessionId, record),
        } as Session;
      }),
      cb,
    );
  }

  /**
   * Saves a session against what this request loaded (a session that carries no load was made by
   * this request); an unchanged one only has its expiry moved, at most once per `touchAfter`. The
   * cookie is part of what is compared, so a `maxAge` change is stored.
   */
  set(sessionId: string, session: Session, cb: Callback<void>): void {
    const expiresAtSec = secondsOf(session.cookie?.expires) ?? this.engine.defaultExpiry();
    const live = session as unknown as Record<string, unknown>;
    settleSave(
      session,
      () => {
        // read when the save starts: an earlier save of this request in flight leaves its load here
        const load = live[loadKey];
        const loaded = load instanceof Load && load.sessionId === sessionId ? load.record : null;
        return this.engine.setEager(sessionId, toData(session), expiresAtSec, { loaded, lifetimeKeys });
      },
      cb,
      // a later save of this request (save() in a route, then the one before the reply) starts from here
      (record) => {
        if (record) live[loadKey] = new Load(sessionId, record);
      },
    );
  }

  /** Closes the DynamoDB client the store made; a `client` passed in is left to its owner. */
  close(): void {
    this.engine.close();
  }

  /** Destroys a session (a tombstone by default, so that no request in flight revives it). */
  destroy(sessionId: string, cb: Callback<void>): void {
    settle(
      this.engine.destroy(sessionId).catch((err: unknown) => {
        if (typeof err === 'object' && err !== null) failedDestroys.add(err);
        throw err;
      }),
      cb,
    );
  }

  /**
   * A user's live sessions (needs the `userId` option and the user index), latest expiry first.
   * @throws MissingIndexError, StoreUnavailableError
   */
  listUserSessions(userId: string, options?: ListUserSessionsOptions): Promise<UserSession[]> {
    return this.engine.listUserSessions(userId, options);
  }

  /**
   * Destroys a user's sessions except `options.except` ("log out other devices").
   * @throws MissingIndexError, StoreUnavailableError
   */
  destroyUserSessions(
    userId: string,
    options?: DestroyUserSessionsOptions,
  ): Promise<DestroyUserSessionsResult> {
    return this.engine.destroyUserSessions(userId, options);
  }
}

/** @fastify/session's cookie settings, which belong under `cookie`. */
const cookieOptions = new Set(['maxAge', 'expires', 'httpOnly', 'secure', 'sameSite', 'domain', 'path']);

/**
 * The store's options, once the plugin's own are taken out. A cookie setting or a `store` at the top
 * level would otherwise be refused by the store as an unknown option, without saying where it goes.
 */
function storeOptionsOf(rest: Record<string, unknown>): DynamoDBStoreOptions {
  // Fastify passes its own register options (`logLevel`, `logSerializers`) to every plugin
  const { logLevel: _logLevel, logSerializers: _logSerializers, ...engineOptions } = rest;
  for (const [key, value] of Object.entries(engineOptions)) {
    if (cookieOptions.has(key)) {
      const example = typeof value === 'string' ? JSON.stringify(value) : String(value);
      throw new InvalidOptionError(
        key,
        `a cookie setting; it goes under cookie: { cookie: { ${key}: ${example} } }`,
      );
    }
    if (key === 'store') {
      throw new InvalidOptionError(
        key,
        'the plugin makes its store from the options; to use your own DynamoDBStore, register @fastify/session with it',
      );
    }
  }
  return engineOptions;
}

/**
 * The errors of destroys that failed. @fastify/session's `regenerate` stores and puts on the request
 * a new session even when the destroy of the old one failed; the reply, an error, would then carry
 * the new session's cookie, logging the browser out of the session it has, which is still stored.
 */
const failedDestroys = new WeakSet<object>();

const plugin: FastifyPluginAsync<DynamoDBSessionsOptions> = async (app, options) => {
  const {
    secret,
    algorithm,
    cookie,
    cookieName,
    cookiePrefix,
    saveUninitialized,
    rolling,
    idGenerator,
    ...rest
  } = options;
  const store = new DynamoDBStore(storeOptionsOf(rest));
  app.decorate('dynamodbStore', store);
  // closes the client the store made; a client passed in is left to its owner
  app.addHook('onClose', async () => store.close());
  // a request failed by a destroy keeps no session: no cookie is sent with its error (as in Express)
  app.addHook('onError', async (request, _reply, error) => {
    if (failedDestroys.has(error)) Reflect.set(request, 'session', null);
  });
  if (!app.hasPlugin('@fastify/cookie')) await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret,
    store,
    cookie: { secure: 'auto', sameSite: 'lax', ...cookie },
    ...(algorithm !== undefined && { algorithm }),
    ...(cookieName !== undefined && { cookieName }),
    ...(cookiePrefix !== undefined && { cookiePrefix }),
    ...(saveUninitialized !== undefined && { saveUninitialized }),
    ...(rolling !== undefined && { rolling }),
    ...(idGenerator !== undefined && { idGenerator }),
  });
};

/**
 * Sessions in DynamoDB for Fastify 5: registers `@fastify/cookie` (unless already registered) and
 * `@fastify/session` with a `DynamoDBStore`, and decorates the instance with `dynamodbStore`.
 * @example
 * ```ts
 * import { dynamodbSessions } from 'dynamodb-sessions/fastify';
 * await app.register(dynamodbSessions, { secret, tableName: 'sessions', cookie: { maxAge: 86_400_000 } });
 * app.get('/', async (request) => request.session.user ?? null);
 * ```
 * @function
 * @public
 */
export const dynamodbSessions = fp(plugin, { fastify: '5.x', name: 'dynamodb-sessions' });

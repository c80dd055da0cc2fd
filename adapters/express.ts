/**
 * express-session store: `app.use(session({ store: new DynamoDBStore(options), ... }))`.
 * Only translates between express-session's callbacks and the engine.
 * @packageDocumentation
 */
import type { Request } from 'express';
import session, { type SessionData } from 'express-session';
import {
  type DestroyUserSessionsOptions,
  type DestroyUserSessionsResult,
  type EngineOptions,
  type ListUserSessionsOptions,
  SessionDataError,
  SessionEngine,
  type SessionRecord,
  type UserSession,
} from '../src/index.js';
import {
  type Callback,
  cookieFromData,
  cookieToData,
  isRecord,
  secondsOf,
  settle,
  settleSave,
} from './shared.js';

export type { Callback } from './shared.js';

/** Options of the express-session store: the engine's options. @public */
export type DynamoDBStoreOptions = EngineOptions<SessionData>;

/**
 * The cookie is stored without `expires`: the item's expiry is the one truth, and `get` puts it back
 * (for persistent cookies), so a throttled touch never leaves a stale expiry inside the data.
 */
function toData(sess: SessionData, loaded: SessionRecord<SessionData> | undefined): SessionData {
  const rest = cookieToData(sess.cookie, false) ?? {};
  // express-session recomputes originalMaxAge from two clock reads at the end of each request: it
  // drifts by a millisecond, or by as long as the process was paused between them. Within a few
  // seconds of what was loaded it is that value; else whole seconds, as cookie lifetimes go on the wire
  if (typeof rest.originalMaxAge === 'number') {
    const before = (loaded?.data.cookie as { originalMaxAge?: unknown } | undefined)?.originalMaxAge;
    rest.originalMaxAge =
      typeof before === 'number' && Math.abs(rest.originalMaxAge - before) < maxAgeDriftMs
        ? before
        : Math.round(rest.originalMaxAge / 1000) * 1000;
  }
  return { ...sess, cookie: rest } as unknown as SessionData;
}

/** The session's lifetime is its cookie's. */
const lifetimeKeys = ['cookie'];

/** How far express-session's recomputed originalMaxAge may drift from the loaded one and be the same. */
const maxAgeDriftMs = 5000;

function toSession(session: SessionData, expiresAtSec: number): SessionData {
  const data = session as unknown as Record<string, unknown>;
  const iso = (ms: number) => new Date(ms).toISOString();
  const cookie = cookieFromData(data.cookie, expiresAtSec, iso) ?? { originalMaxAge: null };
  return { ...data, cookie } as unknown as SessionData;
}

/**
 * What each request loaded, carried from `get` through `createSession` to the live `Session` that
 * `set`/`touch` receive. A session with no entry was made by this request (new, or regenerated).
 */
const loaded = new WeakMap<object, SessionRecord<SessionData>>();

/**
 * After a failed save, express-session would still send the session cookie with the error answer,
 * pointing at a session that was not stored: without `req.session` it sends none.
 */
function forgetOnFailure(sess: SessionData): void {
  const req: unknown = (sess as { req?: unknown }).req;
  if (isRecord(req) && req.session === sess) req.session = undefined;
}

/**
 * express-session hashes the live session with `JSON.stringify` when the response ends, outside any
 * handler: a BigInt or a cycle in it would throw there and take the process down. Each session this
 * store hands out gets a `toJSON` (not enumerable, so it is never stored) that gives the session
 * itself when JSON can hold it, and else a mark that differs from every session's JSON: the session
 * then looks modified, and `set` refuses it with `SessionDataError`.
 */
const unstorableMark = '[session data JSON cannot hold]';

function sessionJson(this: object): unknown {
  return unstorable(this) ? unstorableMark : this;
}

/** Gives a session this store hands out the safe `toJSON`. */
function harden(sess: unknown): void {
  if (!isRecord(sess) || sess.toJSON === sessionJson) return;
  Object.defineProperty(sess, 'toJSON', { value: sessionJson, configurable: true, writable: true });
}

/**
 * Why JSON cannot hold a session, as a `SessionDataError` naming the value as the engine names it;
 * `undefined` when it can. Walks the session as `JSON.stringify` does (a `toJSON` is called, the
 * value it gives is walked), at a fraction of its cost: express-session hashes a session three
 * times a request. A session met inside is walked as it is, so a cycle through it is seen.
 */
function unstorable(sess: object): SessionDataError | undefined {
  const keys: (string | number)[] = [];
  const open: object[] = [];
  const why = (value: unknown): string | undefined => {
    if (typeof value !== 'object') return typeof value === 'bigint' ? 'a BigInt has no JSON form' : undefined;
    if (value === null || value instanceof Date) return undefined;
    let json: unknown = value;
    const toJSON: unknown = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function' && toJSON !== sessionJson) {
      try {
        json = toJSON.call(value, String(keys.at(-1) ?? ''));
      } catch (err) {
        return `toJSON() threw: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    if (typeof json !== 'object' || json === null)
      return typeof json === 'bigint' ? 'a BigInt has no JSON form' : undefined;
    if (open.includes(json)) return 'circular reference';
    open.push(json);
    if (Array.isArray(json)) {
      for (let i = 0; i < json.length; i++) {
        keys.push(i);
        const found = why(json[i]);
        if (found) return found;
        keys.pop();
      }
    } else {
      for (const key in json) {
        if (!Object.hasOwn(json, key)) continue;
        keys.push(key);
        const found = why((json as Record<string, unknown>)[key]);
        if (found) return found;
        keys.pop();
      }
    }
    open.pop();
    return undefined;
  };
  let reason: string | undefined;
  try {
    reason = why(sess);
  } catch (err) {
    // a getter or a proxy that throws, or nesting deeper than the stack
    reason = err instanceof Error ? err.message : String(err);
  }
  if (reason === undefined) return undefined;
  const path = keys.reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : `${p}.${k}`), 'session');
  return new SessionDataError(path, reason);
}

/**
 * A DynamoDB store for express-session.
 * @example
 * ```ts
 * import session from 'express-session';
 * import { DynamoDBStore } from 'dynamodb-sessions/express';
 * app.use(session({ store: new DynamoDBStore({ tableName: 'sessions' }), secret, resave: false, saveUninitialized: false }));
 * ```
 * @public
 */
export class DynamoDBStore extends session.Store {
  /** The engine doing the DynamoDB work (also for `stats()`). */
  readonly engine: SessionEngine<SessionData>;

  /** Makes no DynamoDB call. @throws InvalidOptionError */
  constructor(options: DynamoDBStoreOptions = {}) {
    super();
    this.engine = new SessionEngine(options);
  }

  /** Loads a session; `null` when absent or expired; an error when DynamoDB fails. */
  override get(sid: string, cb: Callback<SessionData | null>): void {
    settle(
      this.engine.load(sid).then((record) => {
        if (!record) return null;
        const sess = toSession(record.data, record.expiresAtSec);
        loaded.set(sess, record);
        return sess;
      }),
      cb,
    );
  }

  /** express-session builds the live `Session` from what `get` returned: remember what was loaded. */
  override createSession(req: Request, sess: SessionData): session.Session & SessionData {
    const live = super.createSession(req, sess);
    harden(live);
    const record = loaded.get(sess);
    if (record !== undefined) loaded.set(live, record);
    return live;
  }

  #generate: ((req: Request) => void) | undefined;

  /**
   * express-session's `generate` (it sets it when the middleware is made): each new session it makes
   * gets the same safe `toJSON` as a loaded one.
   */
  get generate(): ((req: Request) => void) | undefined {
    return this.#generate;
  }

  /** Set by express-session: its maker of new sessions, wrapped so that each gets the safe `toJSON`. */
  set generate(make: ((req: Request) => void) | undefined) {
    this.#generate =
      typeof make === 'function'
        ? (req) => {
            make.call(this, req);
            harden(req.session);
          }
        : undefined;
  }

  /**
   * Saves a session against what this request loaded; an unchanged one only has its expiry moved
   * (throttled by `touchAfter`). A value JSON cannot hold (a BigInt, a cycle) is refused with
   * `SessionDataError`, before any call. A failed save sets no session cookie.
   */
  override set(sid: string, sess: SessionData, cb?: Callback<void>): void {
    const refused = isRecord(sess) && sess.toJSON === sessionJson ? unstorable(sess) : undefined;
    if (refused) {
      // at once: express-session writes its headers right after calling set, and must send no
      // cookie for a session that is not stored
      forgetOnFailure(sess);
      settle(Promise.reject(refused), cb);
      return;
    }
    settleSave(
      sess,
      () => {
        const expiresAtSec = secondsOf(sess.cookie?.expires) ?? this.engine.defaultExpiry();
        const record = loaded.get(sess);
        const since = { loaded: record ?? null, lifetimeKeys };
        return this.engine.setEager(sid, toData(sess, record), expiresAtSec, since);
      },
      cb,
      // a later save of this request (an explicit save(), then the one at the end) starts from here
      (record) => {
        if (record) loaded.set(sess, record);
      },
      () => forgetOnFailure(sess),
    );
  }

  /**
   * Called for every unmodified session, and when only the cookie changed: writes only what is due.
   * A session object this store did not load (an app's own call, a copy) only has its expiry moved,
   * and only while its item is live: a touch never creates a session or brings one back.
   */
  override touch(sid: string, sess: SessionData, cb?: Callback<void>): void {
    if (isRecord(sess) && loaded.has(sess)) {
      this.set(sid, sess, cb);
      return;
    }
    settle(this.engine.touch(sid, secondsOf(sess?.cookie?.expires) ?? this.engine.defaultExpiry()), cb);
  }

  /**
   * Closes the DynamoDB client the store made, at shutdown (e.g. in `server.close()`'s callback);
   * a `client` passed in is left to its owner.
   */
  close(): void {
    this.engine.close();
  }

  /**
   * A new session for the request (at login, against session fixation), as express-session's own:
   * the old session destroyed, then a new one generated. A session this request made and never
   * saved (a first visit) has nothing stored to destroy: it costs no write, and it cannot fail.
   * When the destroy fails, the request keeps no session: express-session has generated the new one
   * all the same, and its cookie would point the browser at a session never stored, logging it out
   * of the one it has, which is still there.
   */
  override regenerate(req: Request, cb: (err?: unknown) => void): void {
    // express-session gives its store `generate` when the middleware is made
    const generate: unknown = Reflect.get(this, 'generate');
    if (typeof generate === 'function' && req.session !== undefined && !loaded.has(req.session)) {
      generate.call(this, req);
      cb();
      return;
    }
    super.regenerate(req, (err?: unknown) => {
      if (err) Reflect.set(req, 'session', undefined);
      cb(err);
    });
  }

  /** Destroys a session; the callback is optional. */
  override destroy(sid: string, cb?: Callback<void>): void {
    settle(this.engine.destroy(sid), cb);
  }

  /** Lists a user's live sessions (needs `userId` and the user index). @throws MissingIndexError, StoreUnavailableError */
  listUserSessions(userId: string, options?: ListUserSessionsOptions): Promise<UserSession[]> {
    return this.engine.listUserSessions(userId, options);
  }

  /** Destroys every session of a user but those in `except` ("log out other devices"). @throws MissingIndexError, StoreUnavailableError */
  destroyUserSessions(
    userId: string,
    options?: DestroyUserSessionsOptions,
  ): Promise<DestroyUserSessionsResult> {
    return this.engine.destroyUserSessions(userId, options);
  }
}

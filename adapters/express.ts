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
    const record = loaded.get(sess);
    if (record !== undefined) loaded.set(live, record);
    return live;
  }

  /**
   * Saves a session against what this request loaded; an unchanged one only has its expiry moved
   * (throttled by `touchAfter`). A failed save sets no session cookie.
   */
  override set(sid: string, sess: SessionData, cb?: Callback<void>): void {
    settleSave(
      () => {
        const expiresAtSec = secondsOf(sess.cookie?.expires) ?? this.engine.defaultExpiry();
        const record = loaded.get(sess);
        return this.engine.setEager(sid, toData(sess, record), expiresAtSec, { loaded: record ?? null });
      },
      cb,
      // a later save of this request (an explicit save(), then the one at the end) starts from here
      (record) => {
        if (record) loaded.set(sess, record);
      },
      () => forgetOnFailure(sess),
    );
  }

  /** Called for every unmodified session, and when only the cookie changed: writes only what is due. */
  override touch(sid: string, sess: SessionData, cb?: Callback<void>): void {
    this.set(sid, sess, cb);
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

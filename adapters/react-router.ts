/**
 * React Router (7 and 8, framework and data mode) session storage:
 * `createDynamoDBSessionStorage({ cookie: { name: '__session', secrets }, tableName: 'sessions' })`.
 * Only translates between React Router's `SessionStorage` and the engine.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import {
  type Cookie,
  type CookieOptions,
  createCookie,
  createSession,
  isCookie,
  type SessionData,
  type SessionStorage,
} from 'react-router';
import {
  DynamoDBSessionsError,
  type EngineOptions,
  SessionEngine,
  type SessionRecord,
} from '../src/index.js';
import { afterEarlierSave, secondsOf } from './shared.js';

/** A session's data as React Router hands it to a storage (flash values under `__flash_<name>__`). @public */
export type ReactRouterSessionData = Record<string, unknown>;

/** React Router's `createCookie` options, and the cookie's name. @public */
export interface SessionCookieOptions extends CookieOptions {
  /** The cookie's name. @defaultValue `'__session'` */
  name?: string;
}

/** Options of `createDynamoDBSessionStorage`: the session cookie, and the engine's options. @public */
export interface DynamoDBSessionStorageOptions extends EngineOptions<ReactRouterSessionData> {
  /**
   * The cookie that holds the session id: a `createCookie` cookie, or its options and `name`.
   * Give it `secrets` (to sign it), `httpOnly`, `secure` and `sameSite`; its `maxAge`/`expires` is
   * the session's lifetime, else the store's `ttl` (a browser-session cookie).
   * @defaultValue `{ name: '__session' }`
   */
  cookie?: Cookie | SessionCookieOptions;
}

/** React Router's `SessionStorage`, with the engine behind it. @public */
export interface DynamoDBSessionStorage<Data = SessionData, FlashData = Data>
  extends SessionStorage<Data, FlashData> {
  /** The engine doing the DynamoDB work (for `stats()`, `listUserSessions`, `destroyUserSessions`). */
  readonly engine: SessionEngine<ReactRouterSessionData>;
  /** Closes the DynamoDB client the storage made, at shutdown; a `client` passed in is left to its owner. */
  close(): void;
}

/**
 * What each session object (one `getSession` call's) stands for: the id it was loaded or first
 * stored under, what is stored there now, or that it was destroyed. React Router's own
 * `createSessionStorage` cannot carry this: its `updateData(id, data)` knows nothing of the load.
 */
type Known = { id: string; record: SessionRecord<ReactRouterSessionData> } | { id: string; destroyed: true };
const known = new WeakMap<object, Known>();

/** A new session id: 256 random bits, 43 base64url characters. */
function newId(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Gives an error of the store React Router's shape of a route error response (`status`,
 * `statusText`, `internal`, `data`, `error`): React Router then answers with its status (503 when
 * DynamoDB fails) instead of 500, still passes it to `handleError`, and in production sends the
 * browser only "Unexpected Server Error". Its class, `code` and fields are unchanged.
 */
function asRouteError(err: unknown): unknown {
  if (err instanceof DynamoDBSessionsError && !('internal' in err)) {
    Object.defineProperties(err, {
      statusText: { value: err.status === 503 ? 'Service Unavailable' : 'Internal Server Error' },
      internal: { value: true },
      data: { value: err.message },
      error: { value: err },
    });
  }
  return err;
}

/** Runs a storage call, its errors shaped for React Router. */
async function routed<R>(task: () => Promise<R>): Promise<R> {
  try {
    return await task();
  } catch (err) {
    throw asRouteError(err);
  }
}

/**
 * React Router session storage on DynamoDB. The storage makes each session's id (256 random bits)
 * and keeps what each `getSession` loaded, so a `commitSession` of unchanged data writes nothing
 * until `touchAfter`, a change is written over the version loaded (merged with another request's
 * change of other keys), and a destroyed session is never written back. A new session with no data
 * is not stored: its commit clears the cookie.
 * @example
 * ```ts
 * import { createDynamoDBSessionStorage } from 'dynamodb-sessions/react-router';
 * export const { getSession, commitSession, destroySession } = createDynamoDBSessionStorage({
 *   cookie: { name: '__session', secrets: [process.env.SESSION_SECRET ?? ''], httpOnly: true, sameSite: 'lax', maxAge: 86_400 },
 *   tableName: 'sessions',
 * });
 * ```
 * @throws InvalidOptionError
 * @public
 */
export function createDynamoDBSessionStorage<Data = SessionData, FlashData = Data>(
  options: DynamoDBSessionStorageOptions = {},
): DynamoDBSessionStorage<Data, FlashData> {
  const { cookie: cookieArg, ...engineOptions } = options;
  const cookie = isCookie(cookieArg) ? cookieArg : createCookie(cookieArg?.name || '__session', cookieArg);
  const engine = new SessionEngine<ReactRouterSessionData>(engineOptions);
  // the cookie cleared, as React Router's own storages clear it: expired long ago, and the cookie's
  // own maxAge overridden (a browser goes by Max-Age before Expires)
  type SerializeOptions = Parameters<Cookie['serialize']>[1];
  const cleared = (serializeOptions?: SerializeOptions) => {
    const options: Record<string, unknown> = { ...serializeOptions, maxAge: undefined, expires: new Date(0) };
    return cookie.serialize('', options as SerializeOptions);
  };

  return {
    engine,
    close: () => engine.close(),

    // a cookie whose session is absent, destroyed or expired gives a new session: a new id on commit
    getSession: (cookieHeader, parseOptions) =>
      routed(async () => {
        const parsed: unknown = cookieHeader ? await cookie.parse(cookieHeader, parseOptions) : null;
        const id = typeof parsed === 'string' ? parsed : '';
        const record = id ? await engine.load(id) : null;
        const session = createSession<Data, FlashData>((record?.data ?? {}) as Data, record ? id : '');
        if (record) known.set(session, { id, record });
        return session;
      }),

    // React Router's commit options win over the cookie's lifetime, as in its own storages
    commitSession: (session, serializeOptions) =>
      routed(async () => {
        const expires =
          serializeOptions?.maxAge != null
            ? Date.now() + serializeOptions.maxAge * 1000
            : (serializeOptions?.expires ?? cookie.expires);
        const expiresAtSec = secondsOf(expires) ?? engine.defaultExpiry();
        const data = session.data as ReactRouterSessionData;
        // a second commit of one session object (a new one included) waits for the first
        const id = await afterEarlierSave(session, async () => {
          const was = known.get(session);
          if (was && 'destroyed' in was) return undefined; // committed after destroySession: stays gone
          // a session object this storage did not load (or one loaded elsewhere) is stored as a new one
          const mine = was && (was.id === session.id || session.id === '') ? was : undefined;
          if (!mine && Object.keys(data).length === 0) return undefined;
          const sid = mine?.id ?? newId();
          const stored = await engine.set(sid, data, expiresAtSec, { loaded: mine?.record ?? null });
          // destroyed, deleted or expired meanwhile (a logout elsewhere): not written back, cookie cleared
          known.set(session, stored ? { id: sid, record: stored } : { id: sid, destroyed: true });
          return stored ? sid : undefined;
        });
        return id === undefined ? cleared(serializeOptions) : cookie.serialize(id, serializeOptions);
      }),

    destroySession: (session, serializeOptions) =>
      routed(async () => {
        await afterEarlierSave(session, async () => {
          const was = known.get(session);
          const id = was?.id ?? session.id;
          known.set(session, { id, destroyed: true });
          if (id) await engine.destroy(id);
        });
        return cleared(serializeOptions);
      }),
  };
}

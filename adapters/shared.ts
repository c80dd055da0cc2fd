/** Helpers shared by the adapters: callbacks at the edge, and cookie and expiry conversions. */

/** A Node-style callback. @public */
export type Callback<T> = (err: unknown, value?: T) => void;

/**
 * Settles a promise into an optional callback, off the promise chain: a callback that throws is
 * never called twice, and a missing callback (express-session's `destroy()` without one) is fine.
 */
export function settle<T>(promise: Promise<T>, cb: Callback<T> | undefined): void {
  promise.then(
    (value) => {
      if (cb) process.nextTick(cb, null, value);
    },
    (err: unknown) => {
      if (cb) process.nextTick(cb, err);
    },
  );
}

/** The save in flight of each session object (one request's), settled either way. */
const inFlight = new WeakMap<object, Promise<unknown>>();

/**
 * Runs a request's save after the save of the same session object still in flight, if any: a second
 * save (an explicit `save()` not waited for, then the framework's own) must start from what the
 * first stored, or it looks like another new session under a live id. `task` includes what the
 * request keeps of a save's result, so the next one sees it. Without a save in flight, `task` runs
 * at once and its result is returned as it is (not a promise when it wrote nothing).
 */
export function afterEarlierSave<R>(owner: unknown, task: () => R | Promise<R>): R | Promise<R> {
  if (typeof owner !== 'object' || owner === null) return task();
  const before = inFlight.get(owner);
  const result = before ? before.then(task) : task();
  if (result instanceof Promise) {
    const settled = result.then(
      () => {},
      () => {},
    );
    inFlight.set(owner, settled);
    void settled.then(() => {
      if (inFlight.get(owner) === settled) inFlight.delete(owner);
    });
  }
  return result;
}

/**
 * Settles a save of the session object `owner` into its callback, after any save of it in flight:
 * at once when it wrote nothing (the engine's result is then not a promise), so that the framework
 * goes on in the same tick (express-session otherwise holds back the last byte of its answer until
 * the callback); else as `settle` does. `saved` gets the result, `failed` the error before the
 * callback does.
 */
export function settleSave<R>(
  owner: unknown,
  save: () => R | Promise<R>,
  cb: Callback<void> | undefined,
  saved: (result: R) => void,
  failed: (err: unknown) => void = () => {},
): void {
  const task = (): R | Promise<R> => {
    let result: R | Promise<R>;
    try {
      result = save();
    } catch (err) {
      result = Promise.reject(err);
    }
    if (!(result instanceof Promise)) {
      saved(result);
      return result;
    }
    return result.then(
      (value) => {
        saved(value);
        return value;
      },
      (err: unknown) => {
        failed(err);
        throw err;
      },
    );
  };
  const result = afterEarlierSave(owner, task);
  if (!(result instanceof Promise)) {
    cb?.(null);
    return;
  }
  settle(
    result.then(() => {}),
    cb,
  );
}

/** Epoch seconds of a Date, an ISO string or epoch milliseconds; `undefined` when there is none. */
export function secondsOf(expires: unknown): number | undefined {
  let ms: number;
  if (expires instanceof Date) ms = expires.getTime();
  else if (typeof expires === 'string' && expires !== '') ms = Date.parse(expires);
  else if (typeof expires === 'number') ms = expires;
  else return undefined;
  return Number.isFinite(ms) ? Math.ceil(ms / 1000) : undefined;
}

/** Narrows an unknown value to a plain record. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `Cookie#toJSON()` of express-session and @fastify/session, or a stored cookie as it is. */
export function cookieJson(cookie: unknown): Record<string, unknown> | undefined {
  const json: unknown = isRecord(cookie) && typeof cookie.toJSON === 'function' ? cookie.toJSON() : cookie;
  return isRecord(json) ? json : undefined;
}

/**
 * A cookie as stored. The expiry of a `maxAge` cookie (and @fastify/session's `originalExpires`,
 * the expiry it was loaded with) moves on every request: it is left out, so that an unmodified
 * session keeps its JSON text, and the item's expiry is the one truth (`cookieFromData` puts it back).
 * A cookie without `maxAge` keeps its fixed `expires` when `keepFixedExpiry` is set.
 */
export function cookieToData(cookie: unknown, keepFixedExpiry: boolean): Record<string, unknown> | undefined {
  const json = cookieJson(cookie);
  if (!json) return undefined;
  const { expires, originalExpires: _originalExpires, ...rest } = json;
  return keepFixedExpiry && typeof rest.originalMaxAge !== 'number' ? { ...rest, expires } : rest;
}

/** A stored cookie with the item's expiry put back when it has a `maxAge`, as `toValue` writes a time. */
export function cookieFromData(
  cookie: unknown,
  expiresAtSec: number,
  toValue: (ms: number) => unknown,
): Record<string, unknown> | undefined {
  if (!isRecord(cookie)) return undefined;
  if (typeof cookie.originalMaxAge !== 'number') return cookie;
  return { ...cookie, expires: toValue(expiresAtSec * 1000) };
}

/** Helpers shared by the adapters: callbacks at the edge, and expiry conversions. @internal */

/** A Node-style callback. */
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

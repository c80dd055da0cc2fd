/**
 * A request's own changes: what it set, changed or deleted at the top level of the session against
 * what it loaded. After a conflict they are re-applied onto the fresh copy, so that concurrent
 * requests that change different keys both survive, and the later write wins for a key both changed.
 */
import { type Plain, put, toPlain } from '../format/plain.js';

/** What a request changed at the top level: the keys it set, changed or deleted against what it loaded. @internal */
export interface OwnChanges {
  /** Keys set or changed, with the value as the request holds it. */
  readonly set: ReadonlyMap<string, unknown>;
  /** Keys deleted. */
  readonly deleted: readonly string[];
}

/**
 * The top-level keys whose stored form differs between what a request loaded and what it saves
 * (`saved` is the saved data's plain form, `data` the data as given). @internal
 */
export function ownChanges(
  loaded: Record<string, unknown>,
  saved: { [key: string]: Plain },
  data: Record<string, unknown>,
): OwnChanges {
  const set = new Map<string, unknown>();
  const deleted: string[] = [];
  for (const key of new Set([...Object.keys(loaded), ...Object.keys(saved)])) {
    const before = JSON.stringify(toPlain(loaded[key], key));
    const after = Object.hasOwn(saved, key) ? JSON.stringify(saved[key]) : undefined;
    if (before === after) continue;
    if (after === undefined) deleted.push(key);
    else set.set(key, data[key]);
  }
  return { set, deleted };
}

/** `fresh` with a request's own changes applied: the later write wins for a key both changed. @internal */
export function applyChanges(fresh: Record<string, unknown>, changes: OwnChanges): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(fresh)) put(out, key, fresh[key]);
  for (const [key, value] of changes.set) put(out, key, value);
  for (const key of changes.deleted) delete out[key];
  return out;
}

/**
 * A model-based randomized test. Sequences of operations as apps make them (top-level keys set,
 * replaced and deleted; pushes, splices, sorts and assignments inside nested data; Dates and Buffers;
 * regenerate, reload, two saves in one request, logout; flash values with React Router and Hono) go
 * as HTTP requests, with a cookie jar, to two servers of each framework sharing one table, some two
 * at once. Every answer says what its request loaded, and that must be what the model of
 * docs/guarantees.md expects: every change is kept; of two concurrent changes, both are kept when
 * they change different top-level keys, and for one key the later write wins; a logout is final, also
 * for a change another server saves after it, and for a commit of the logged-out session object.
 *
 * What each framework lets through is modelled as its adapter describes it: React Router has no
 * reload or regenerate, saves only on `commitSession` (a save twice is two commits of one session
 * object) and stores no session without data; with Hono (hono-sessions) the stored data is `_data`,
 * each key's `{ value, flash }`, regenerate is a key rotation, and there is no reload or explicit save.
 *
 * MODEL_SEED=<n> replays runs (fast-check prints the seed of a failure), MODEL_RUNS sets the runs per
 * framework (default 24), MODEL_ONLY=express|fastify|koa|react-router|hono runs one framework.
 */
import { after, before, describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { CookieJar, copyJar, freshTable, localClient, localConfig, request } from './helpers.ts';
import {
  type Answer,
  applyChange,
  type Change,
  type Data,
  type Framework,
  Gate,
  jsonOf,
  type ModelApp,
  startModelApp,
} from './model-apps.ts';
import { startWebApp, type WebFramework, webChanged } from './model-web-apps.ts';

const RUNS = Number(process.env.MODEL_RUNS) || 24;
const SEED = process.env.MODEL_SEED === undefined ? undefined : Number(process.env.MODEL_SEED);
/** ms the first failure of a framework may spend shrinking to a shorter sequence */
const SHRINK_MS = 20_000;

type AnyFramework = Framework | WebFramework;
const isWeb = (f: AnyFramework): f is WebFramework => f === 'react-router' || f === 'hono';

/**
 * Half the runs without the cache; half with the store's own client; half with expiry-only writes due
 * on every request. React Router and Hono: half with a lifetime of the session's own (the cookie's
 * `maxAge`, `expireAfterSeconds`), and one Hono setup without `autoExtendExpiration`.
 */
const setups = [
  { cacheSize: undefined, ownClient: false, touchAfter: 0, lifetime: false, autoExtend: true },
  { cacheSize: 0, ownClient: true, touchAfter: 0, lifetime: true, autoExtend: true },
  { cacheSize: 0, ownClient: false, touchAfter: undefined, lifetime: false, autoExtend: false },
  { cacheSize: undefined, ownClient: true, touchAfter: undefined, lifetime: true, autoExtend: true },
] as const;
type Setup = (typeof setups)[number];

function setupLabel(s: Setup, framework: AnyFramework): string {
  const parts = [
    s.cacheSize === 0 ? 'cacheSize 0' : 'cache default',
    s.ownClient ? 'own client' : 'client passed in',
    s.touchAfter === 0 ? 'touchAfter 0' : 'touchAfter default',
  ];
  if (framework === 'react-router') parts.push(s.lifetime ? 'cookie maxAge' : 'no cookie maxAge');
  if (framework === 'hono') {
    parts.push(s.lifetime ? 'expireAfterSeconds' : 'no expireAfterSeconds');
    if (!s.autoExtend) parts.push('autoExtendExpiration false');
  }
  return parts.join(', ');
}

// ---- operations ----

type Server = 0 | 1;
type Step =
  | { kind: 'read'; server: Server }
  | { kind: 'change'; server: Server; c: Change }
  | { kind: 'pair'; server: Server; sameServer: boolean; first: 'together' | 'a' | 'b'; a: Change; b: Change }
  | { kind: 'saveTwice'; server: Server; c: Change; next: Change; wait: boolean }
  | { kind: 'reload'; server: Server; c: Change; next: Change }
  | { kind: 'regenerate'; server: Server; keep: boolean; next: Change | null }
  | { kind: 'destroy'; server: Server }
  | { kind: 'logoutCommit'; server: Server; c: Change }
  | { kind: 'logoutRace'; server: Server; c: Change };

/** Plain objects: what fast-check prints of a failure is then JSON that can be pasted. */
const plain = { noNullPrototype: true } as const;
const KEYS = ['cart', 'flash', 'passport', 'prefs'];
const SUBS = ['user', 'info', 'when'];
const key = fc.constantFrom(...KEYS);
const sub = fc.constantFrom(...SUBS);
const scalar = fc.oneof(
  fc.constantFrom('', 'book', 'pen', 'é', '🍪'),
  fc.integer({ min: -3, max: 20 }),
  fc.boolean(),
  fc.constant(null),
);
const box = fc.record(
  {
    items: fc.array(scalar, { maxLength: 4 }),
    tags: fc.dictionary(sub, scalar, { maxKeys: 3, ...plain }),
  },
  plain,
);
const maybeSub = fc.option(sub, { nil: null });

const changes: fc.WeightedArbitrary<Change>[] = [
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('set' as const), key, value: fc.oneof(scalar, box) }, plain),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), key }, plain) },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('push' as const), key, item: scalar }, plain),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        op: fc.constant('splice' as const),
        key,
        start: fc.integer({ min: -2, max: 4 }),
        deleteCount: fc.integer({ min: 0, max: 2 }),
        items: fc.array(scalar, { maxLength: 2 }),
      },
      plain,
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('sort' as const), key, reverse: fc.boolean() }, plain),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        op: fc.constant('assign' as const),
        key,
        index: fc.integer({ min: 0, max: 5 }),
        item: scalar,
      },
      plain,
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('setIn' as const), key, sub, value: scalar }, plain),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('deleteIn' as const), key, sub }, plain),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        op: fc.constant('date' as const),
        key,
        sub: maybeSub,
        ms: fc.integer({ min: 0, max: 4_102_444_800_000 }),
      },
      plain,
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        op: fc.constant('buffer' as const),
        key,
        sub: maybeSub,
        bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 4 }),
      },
      plain,
    ),
  },
];

/** React Router's and hono-sessions' flash values: set, and read (which ends them). */
const flashes: fc.WeightedArbitrary<Change>[] = [
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('flash' as const), key, value: fc.oneof(scalar, box) }, plain),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('take' as const), key }, plain) },
];

const changeOf = (framework: AnyFramework): fc.Arbitrary<Change> =>
  fc.oneof(...changes, ...(isWeb(framework) ? flashes : []));

const server = fc.constantFrom<Server>(0, 1);

function stepsFor(framework: AnyFramework): fc.Arbitrary<Step[]> {
  const change = changeOf(framework);
  const step: fc.Arbitrary<Step> = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({ kind: fc.constant('change' as const), server, c: change }, plain),
    },
    {
      weight: 4,
      arbitrary: fc.record(
        {
          kind: fc.constant('pair' as const),
          server,
          // mostly one request on each server; sometimes both on one (its saves queue and merge)
          sameServer: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, fc.constant(true)),
          first: fc.constantFrom('together' as const, 'a' as const, 'b' as const),
          a: change,
          b: change,
        },
        plain,
      ),
    },
    // React Router: two commits of one session object; hono-sessions saves once, after the route
    {
      weight: framework === 'hono' ? 0 : 2,
      arbitrary: fc.record(
        {
          kind: fc.constant('saveTwice' as const),
          server,
          c: change,
          next: change,
          wait: fc.boolean(),
        },
        plain,
      ),
    },
    // koa-session, React Router and hono-sessions have no reload
    {
      weight: framework === 'koa' || isWeb(framework) ? 0 : 2,
      arbitrary: fc.record({ kind: fc.constant('reload' as const), server, c: change, next: change }, plain),
    },
    // React Router has no regenerate; hono-sessions' is a key rotation
    {
      weight: framework === 'react-router' ? 0 : 1,
      arbitrary: fc.record(
        {
          kind: fc.constant('regenerate' as const),
          server,
          keep: fc.boolean(),
          next: fc.option(change, { nil: null }),
        },
        plain,
      ),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('destroy' as const), server }, plain),
    },
    {
      weight: framework === 'react-router' ? 1 : 0,
      arbitrary: fc.record({ kind: fc.constant('logoutCommit' as const), server, c: change }, plain),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('logoutRace' as const), server, c: change }, plain),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('read' as const), server }, plain),
    },
  );
  return fc.array(step, { minLength: 1, maxLength: 12, size: 'max' });
}

// ---- the model ----

const show = (v: unknown): string => JSON.stringify(v) ?? 'undefined';
const isEmpty = (d: Data): boolean => Object.keys(d).length === 0;

/** The data after `changes`, made as the route of `run` makes them, as JSON stores it. */
function applied(run: Run, base: Data, ...changes: (Change | null)[]): Data {
  const made = changes.flatMap((c): Change[] => (c ? [JSON.parse(JSON.stringify(c))] : []));
  if (isWeb(run.framework)) return webChanged(run.framework, base, made);
  const s = structuredClone(base);
  for (const c of made) applyChange(s, c);
  return jsonOf(s);
}

function differingKeys(a: Data, b: Data): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !isDeepStrictEqual(a[k], b[k]));
}

/** `base` with `key` as in `from`. */
function withKeyOf(base: Data, key: string, from: Data): Data {
  const out = { ...base };
  if (from[key] === undefined) delete out[key];
  else out[key] = from[key];
  return out;
}

/** What one browser's session must be, as its requests go. */
class Model {
  /** What the next request may read: one state, or two after two concurrent writes to one key. */
  candidates: Data[] = [{}];
  /** The id the session must keep while it holds data. */
  id: string | null = null;
  /** Top-level keys read otherwise than the model expected. */
  lost = 0;
  readonly problems: string[] = [];
  readonly trace: string[] = [];

  /** Every state the session may be in holds data, so it is stored and its cookie set. */
  get live(): boolean {
    return this.candidates.every((c) => !isEmpty(c));
  }

  /** Holds what a request loaded against the model; returns it, as the state from here on. */
  read(where: string, answer: Answer): Data {
    const seen = answer.before;
    this.trace.push(`  ${where} loaded ${show(seen)}`);
    const match = this.candidates.find((c) => isDeepStrictEqual(c, seen));
    if (match === undefined) {
      this.lost += Math.min(...this.candidates.map((c) => differingKeys(c, seen).length));
      this.problems.push(`${where} loaded ${show(seen)}, expected ${this.candidates.map(show).join(' or ')}`);
    } else if (!isEmpty(match) && this.id !== null && answer.idBefore !== this.id) {
      this.problems.push(`${where} loaded session ${answer.idBefore}, expected ${this.id}`);
    }
    this.candidates = [seen];
    return seen;
  }

  /**
   * A request that answered `answer` left the session as `expected` (`null`: logged out), and the
   * store must now hold `stored` (which differs only where the framework itself skips a save).
   */
  left(where: string, answer: Answer, expected: Data | null, stored = expected): void {
    if (expected !== null && answer.after !== null && !isDeepStrictEqual(answer.after, expected)) {
      // the route and the model disagree on what a change does: a fault of the test, not of the store
      this.problems.push(`${where}: the route left ${show(answer.after)}, the model ${show(expected)}`);
    }
    this.candidates = [stored ?? {}];
    this.id = stored !== null && !isEmpty(stored) ? answer.idAfter : null;
  }

  /** A request failed: whether its change was stored is unknown. */
  failed(where: string, why: string, expected: (base: Data) => Data | null): void {
    this.problems.push(`${where} answered ${why}`);
    this.candidates = [...this.candidates, ...this.candidates.map((c) => expected(c) ?? {})];
  }
}

// ---- one run ----

interface Run {
  framework: AnyFramework;
  apps: readonly [ModelApp, ModelApp];
  jar: CookieJar;
  model: Model;
  /** Jars holding the cookie of a session logged out or regenerated, and its id. */
  dead: { jar: CookieJar; id: string }[];
  /** Requests the steps sent (the final reads are not counted). */
  operations: number;
}

const q = (c: Change): string => encodeURIComponent(JSON.stringify(c));

async function send(run: Run, s: Server, path: string, jar = run.jar): Promise<Answer | string> {
  const res = await request(run.apps[s].base, path, jar, { method: 'POST' });
  return res.status === 200 ? (res.body as Answer) : `${res.status} ${show(res.body)}`;
}

/** Waits for the saves the routes left running, and reports every error the servers logged. */
async function settle(run: Run, where: string): Promise<void> {
  for (const [i, app] of run.apps.entries()) {
    await app.idle();
    for (const err of app.errors.splice(0)) {
      const { code, message } = err as { code?: unknown; message?: unknown };
      run.model.problems.push(`${where}: server ${i + 1} logged ${String(code ?? '')} ${String(message)}`);
    }
  }
}

/**
 * One request, and what the model expects of it given what it loaded: what the route leaves, and
 * what is then stored (the same, unless the framework skips a save).
 */
async function single(
  run: Run,
  where: string,
  s: Server,
  path: string,
  expected: (base: Data) => Data | null,
  stored = (_base: Data, left: Data | null): Data | null => left,
): Promise<Answer | null> {
  run.operations++;
  const answer = await send(run, s, path);
  await settle(run, where);
  if (typeof answer === 'string') {
    run.model.failed(where, answer, expected);
    return null;
  }
  const base = run.model.read(where, answer);
  const left = expected(base);
  run.model.left(where, answer, left, stored(base, left));
  return answer;
}

/** Sends a request that waits at `gate`; resolves once it is there, rejects if it ends first. */
function heldAt(gate: Gate, answer: Promise<Answer | string>): Promise<void> {
  const ended = answer.then((a) => {
    throw new Error(`ended before its gate: ${show(a)}`);
  });
  ended.catch(() => {});
  return Promise.race([gate.arrived(), ended]);
}

/**
 * What a pair leaves, from what both loaded (`base`) and what each made of it (`ra`, `rb`). The store
 * merges per top-level key: each write re-applies the keys its request changed (a React Router
 * flash value is a key of its own, `__flash_<name>__`) on what the other stored, so changes to
 * different keys are both kept, and for one key the later write wins (released together, either may
 * be later); a request that changed nothing never writes its stale copy.
 */
function pairOutcome(step: Extract<Step, { kind: 'pair' }>, base: Data, ra: Data, rb: Data): Data[] {
  const onto = (from: Data, made: Data) =>
    differingKeys(base, made).reduce((out, k) => withKeyOf(out, k, made), from);
  const aThenB = onto(onto(base, ra), rb);
  const bThenA = onto(onto(base, rb), ra);
  if (step.first === 'a') return [aThenB];
  if (step.first === 'b') return [bThenA];
  return isDeepStrictEqual(aThenB, bThenA) ? [aThenB] : [aThenB, bThenA];
}

/** Two requests of one session in flight at once, both loaded before either saves. */
async function pair(run: Run, where: string, step: Extract<Step, { kind: 'pair' }>): Promise<void> {
  const sa = step.server;
  const sb: Server = step.sameServer ? sa : sa === 0 ? 1 : 0;
  const [ga, gb] = [new Gate(), new Gate()];
  run.operations += 2;
  const pa = send(run, sa, `/change?c=${q(step.a)}&g=${ga.name}`);
  const pb = send(run, sb, `/change?c=${q(step.b)}&g=${gb.name}`);
  try {
    await Promise.all([heldAt(ga, pa), heldAt(gb, pb)]);
    if (step.first !== 'together') {
      const [one, answered] = step.first === 'a' ? [ga, pa] : [gb, pb];
      one.release();
      await answered;
    }
  } catch (err) {
    run.model.problems.push(`${where}: ${(err as Error).message}`);
  } finally {
    ga.release();
    gb.release();
  }
  const [aa, ab] = await Promise.all([pa, pb]);
  await settle(run, where);
  const whereA = `${where} a (server ${sa + 1})`;
  const whereB = `${where} b (server ${sb + 1})`;
  if (typeof aa === 'string' || typeof ab === 'string') {
    if (typeof aa === 'string') run.model.failed(whereA, aa, (base) => applied(run, base, step.a));
    if (typeof ab === 'string') run.model.failed(whereB, ab, (base) => applied(run, base, step.b));
    return;
  }
  const base = run.model.read(whereA, aa);
  run.model.read(whereB, ab);
  const ra = applied(run, base, step.a);
  const rb = applied(run, base, step.b);
  for (const [w, answer, own] of [
    [whereA, aa, ra],
    [whereB, ab, rb],
  ] as const) {
    if (answer.after !== null && !isDeepStrictEqual(answer.after, own))
      run.model.problems.push(`${w}: the route left ${show(answer.after)}, the model ${show(own)}`);
  }
  const outcome = pairOutcome(step, base, ra, rb);
  run.model.candidates = outcome;
  run.model.id = outcome.every(isEmpty) ? null : aa.idAfter;
}

/** A change held between its load and its save while the other server logs the session out. */
async function logoutRace(run: Run, where: string, step: Extract<Step, { kind: 'logoutRace' }>) {
  const other: Server = step.server === 0 ? 1 : 0;
  const old = copyJar(run.jar);
  const gate = new Gate();
  run.operations += 2;
  const held = send(run, step.server, `/change?c=${q(step.c)}&g=${gate.name}`);
  let out: Answer | string = 'not sent';
  try {
    await heldAt(gate, held);
    out = await send(run, other, '/destroy');
  } catch (err) {
    run.model.problems.push(`${where}: ${(err as Error).message}`);
  } finally {
    gate.release();
  }
  const answer = await held;
  await settle(run, where);
  const whereOut = `${where} logout (server ${other + 1})`;
  const whereHeld = `${where} held change (server ${step.server + 1})`;
  if (typeof out === 'string') run.model.problems.push(`${whereOut} answered ${out}`);
  else run.model.read(whereOut, out);
  if (typeof answer === 'string') run.model.problems.push(`${whereHeld} answered ${answer}`);
  else {
    const base = run.model.read(whereHeld, answer);
    const own = applied(run, base, step.c);
    if (answer.after !== null && !isDeepStrictEqual(answer.after, own))
      run.model.problems.push(`${whereHeld}: the route left ${show(answer.after)}, the model ${show(own)}`);
    if (answer.idBefore && !isEmpty(base)) run.dead.push({ jar: old, id: answer.idBefore });
  }
  // logout is final: the change saved after it is refused
  run.model.candidates = [{}];
  run.model.id = null;
}

/** A logout; `then`: a change of the logged-out session object and its commit (React Router), which stores nothing. */
async function logout(run: Run, where: string, s: Server, then?: Change): Promise<void> {
  const old = copyJar(run.jar);
  const path = then === undefined ? '/destroy' : `/destroy?then=${q(then)}`;
  const answer = await single(run, where, s, path, () => null);
  if (answer?.idAfter)
    run.model.problems.push(`${where}: the session was committed again as ${answer.idAfter}`);
  if (answer?.idBefore && !isEmpty(answer.before)) run.dead.push({ jar: old, id: answer.idBefore });
}

function describeStep(step: Step): string {
  const { kind, server: s, ...rest } = step;
  return `${kind} on server ${s + 1} ${show(rest)}`;
}

async function runStep(run: Run, i: number, step: Step): Promise<void> {
  const where = `step ${i + 1}`;
  run.model.trace.push(`${where}: ${describeStep(step)}`);
  const s = step.server;
  switch (step.kind) {
    case 'read':
      await single(run, where, s, '/read', (base) => base);
      return;
    case 'change':
      await single(run, where, s, `/change?c=${q(step.c)}`, (base) => applied(run, base, step.c));
      return;
    case 'pair':
      if (run.model.live) {
        await pair(run, where, step);
        return;
      }
      // no stored session yet: two new sessions at once would be two sessions; one after the other
      await single(run, `${where} a`, s, `/change?c=${q(step.a)}`, (base) => applied(run, base, step.a));
      await single(run, `${where} b`, s, `/change?c=${q(step.b)}`, (base) => applied(run, base, step.b));
      return;
    case 'saveTwice':
      await single(
        run,
        where,
        s,
        `/save-twice?c=${q(step.c)}&next=${q(step.next)}&wait=${step.wait ? 1 : 0}`,
        (base) => applied(run, base, step.c, step.next),
        // koa-session judges its own save against what the request loaded, not what save() stored,
        // by the JSON text (key order included): a session left as it was loaded, keys in the same
        // order, keeps what the explicit save wrote; a key deleted and made again comes last, and the
        // session is saved as left
        (base, left) =>
          run.framework === 'koa' && JSON.stringify(left) === JSON.stringify(base)
            ? applied(run, base, step.c)
            : left,
      );
      return;
    case 'reload':
      if (!run.model.live) {
        // a session never stored cannot be reloaded (express-session fails): the change alone
        await single(run, where, s, `/change?c=${q(step.next)}`, (base) => applied(run, base, step.next));
        return;
      }
      await single(run, where, s, `/reload?c=${q(step.c)}&next=${q(step.next)}`, (base) =>
        applied(run, base, step.next),
      );
      return;
    case 'regenerate': {
      const old = copyJar(run.jar);
      const next = step.next === null ? '' : `&next=${q(step.next)}`;
      const answer = await single(run, where, s, `/regenerate?keep=${step.keep ? 1 : 0}${next}`, (base) =>
        applied(run, step.keep ? base : {}, step.next),
      );
      if (answer?.idBefore) {
        if (answer.idAfter === answer.idBefore)
          run.model.problems.push(`${where}: regenerate kept the id ${answer.idBefore}`);
        if (!isEmpty(answer.before)) run.dead.push({ jar: old, id: answer.idBefore });
      }
      return;
    }
    case 'logoutRace':
      if (run.model.live) {
        await logoutRace(run, where, step);
        return;
      }
      // no stored session to race: the change, then the logout
      await single(run, `${where} a`, s, `/change?c=${q(step.c)}`, (base) => applied(run, base, step.c));
      await logout(run, `${where} b`, s);
      return;
    case 'destroy':
      await logout(run, where, s);
      return;
    case 'logoutCommit':
      await logout(run, where, s, step.c);
      return;
  }
}

/** What a browser holding the cookie of an ended session changes: it must start a new session. */
const AFTER_END: Change = { op: 'set', key: 'cart', value: 'after the end' };

/**
 * The end of a run: both servers read the model's state, and no dead session opens again: a change
 * sent with its cookie starts a new session under a new id.
 */
async function finish(run: Run): Promise<void> {
  for (const s of [0, 1] as const) {
    const where = `final read on server ${s + 1}`;
    const answer = await send(run, s, '/read', copyJar(run.jar));
    await settle(run, where);
    if (typeof answer === 'string') run.model.problems.push(`${where} answered ${answer}`);
    else run.model.read(where, answer);
  }
  for (const [i, { jar, id }] of run.dead.entries()) {
    const where = `change with the cookie of ended session ${id}`;
    const answer = await send(run, i % 2 === 0 ? 1 : 0, `/change?c=${q(AFTER_END)}`, jar);
    await settle(run, where);
    if (typeof answer === 'string') run.model.problems.push(`${where} answered ${answer}`);
    else if (!isEmpty(answer.before) || answer.idBefore === id) {
      run.model.lost += Object.keys(answer.before).length;
      run.model.problems.push(`${where}: it opened again (${answer.idBefore}) with ${show(answer.before)}`);
    } else if (answer.idAfter === id) run.model.problems.push(`${where}: it was stored again under its id`);
  }
}

// ---- the suites ----

interface Tally {
  runs: number;
  operations: number;
  lost: number;
  conflicts: number;
  failures: string[];
}

const frameworks: AnyFramework[] = (['express', 'fastify', 'koa', 'react-router', 'hono'] as const).filter(
  (f) => process.env.MODEL_ONLY === undefined || process.env.MODEL_ONLY === f,
);

for (const framework of frameworks) {
  describe(`model: ${framework}, two servers on one table`, () => {
    let tableName: string;
    const tally: Tally = { runs: 0, operations: 0, lost: 0, conflicts: 0, failures: [] };
    const runsPerSetup = Math.ceil(RUNS / setups.length);
    let started = 0;

    before(async () => {
      started = Date.now();
      const client = await localClient();
      tableName = await freshTable(client);
      client.destroy();
    });
    after(() => {
      const failed = tally.failures.length ? `; failed: ${tally.failures.join('; ')}` : '';
      console.log(
        `model: ${framework} ${tally.operations} operations in ${tally.runs} runs on 2 servers, ` +
          `${tally.lost} changes lost, ${tally.conflicts} conflicts merged, ` +
          `${((Date.now() - started) / 1000).toFixed(1)} s${failed}`,
      );
    });

    for (const setup of setups) {
      test(`${setupLabel(setup, framework)}: every request reads what the model of the guarantees expects`, async () => {
        const config = {
          tableName,
          ...(setup.cacheSize !== undefined && { cacheSize: setup.cacheSize }),
          ...(setup.touchAfter !== undefined && { touchAfter: setup.touchAfter }),
        };
        const clients: DynamoDBClient[] = [];
        const start = async () => {
          const appClient = await localClient();
          clients.push(appClient);
          const app = {
            ...config,
            client: appClient,
            ...(setup.ownClient && { clientConfig: await localConfig() }),
          };
          return isWeb(framework)
            ? startWebApp({ ...app, framework, lifetime: setup.lifetime, autoExtend: setup.autoExtend })
            : startModelApp({ ...app, framework });
        };
        const apps = [await start(), await start()] as const;
        // runs after the first failure are fast-check shrinking it: not counted, and bounded in time;
        // one shrunk failure per framework is enough, the other setups stop at theirs
        let failedAt: number | null = null;
        const shrinks = tally.failures.length === 0;
        try {
          await fc.assert(
            fc.asyncProperty(stepsFor(framework), async (steps) => {
              if (failedAt !== null && Date.now() - failedAt > SHRINK_MS) return;
              const run: Run = {
                framework,
                apps,
                jar: new CookieJar(),
                model: new Model(),
                dead: [],
                operations: 0,
              };
              for (const [i, step] of steps.entries()) await runStep(run, i, step);
              await finish(run);
              if (failedAt === null) {
                tally.runs++;
                tally.operations += run.operations;
                tally.lost += run.model.lost;
              }
              if (run.model.problems.length) {
                failedAt ??= Date.now();
                throw new Error(
                  `${run.model.problems.join('\n')}\nchanges lost: ${run.model.lost}. The run:\n${run.model.trace.join('\n')}`,
                );
              }
            }),
            {
              numRuns: runsPerSetup,
              ...(SEED !== undefined && { seed: SEED }),
              includeErrorInReport: true,
              endOnFailure: !shrinks,
            },
          );
        } catch (err) {
          tally.failures.push(setupLabel(setup, framework));
          throw err;
        } finally {
          tally.conflicts += apps.reduce((n, app) => n + app.conflicts(), 0);
          await Promise.all(apps.map((app) => app.close()));
          for (const c of clients) c.destroy();
        }
      });
    }
  });
}

/** Test helpers: a client for the run's DynamoDB Local, fresh tables, command counting, HTTP with cookies. */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { freePort, startDynamoDBLocal } from '../../dev/dynamodb-local.ts';
import { engineInternals } from '../../src/engine.ts';
import { hashOfId } from '../../src/format/keys.ts';
import { type CreateTableOptions, createTable, type SessionEngine } from '../../src/index.ts';

let endpointPromise: Promise<string> | undefined;

/** The endpoint of the run's DynamoDB Local (started here when a file runs on its own). */
export function endpoint(): Promise<string> {
  const fromRun = process.env.DYNAMODB_ENDPOINT;
  if (fromRun) return Promise.resolve(fromRun);
  endpointPromise ??= startDynamoDBLocal({ unref: true }).then((ddb) => ddb.endpoint);
  return endpointPromise;
}

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** The settings of a client for DynamoDB Local, `extra` over them: a store's `clientConfig`. */
export async function localConfig(extra: DynamoDBClientConfig = {}): Promise<DynamoDBClientConfig> {
  return { region: 'us-east-1', endpoint: await endpoint(), credentials, ...extra };
}

/** A client for DynamoDB Local. */
export async function localClient(config: DynamoDBClientConfig = {}): Promise<DynamoDBClient> {
  return new DynamoDBClient(await localConfig(config));
}

/** A client whose endpoint refuses connections: DynamoDB is down. */
export async function downClient(): Promise<DynamoDBClient> {
  const port = await freePort();
  return new DynamoDBClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials,
    maxAttempts: 1,
  });
}

/**
 * A client for DynamoDB Local whose writes named by `commands` fail, as DynamoDB's internal error,
 * while `failures.left` is above 0; each failed write takes one (`Infinity`: every write).
 */
export async function clientWithFailingWrites(commands = /^(Put|Update|Delete)ItemCommand$/) {
  const client = await localClient();
  const failures = { left: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (failures.left > 0 && commands.test(String(context.commandName))) {
        failures.left--;
        throw Object.assign(new Error('injected'), {
          name: 'InternalServerError',
          $fault: 'server',
          $metadata: {},
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'failingWrites' },
  );
  return { client, failures };
}

/** Creates a table with a unique name (with TTL), returns its name. */
export async function freshTable(client: DynamoDBClient, options: CreateTableOptions = {}): Promise<string> {
  const tableName = `t_${randomBytes(6).toString('hex')}`;
  await createTable(client, { ...options, tableName });
  return tableName;
}

/** Counts the commands a client sends, by name (`GetItemCommand`, ...). */
export interface CommandCounter {
  counts: Record<string, number>;
  reset(): void;
  /** Sum over the names given. */
  of(...names: string[]): number;
  /** Number of write commands (PutItem, UpdateItem, DeleteItem, BatchWriteItem). */
  writes(): number;
}

export function countCommands(client: DynamoDBClient): CommandCounter {
  const counter: CommandCounter = {
    counts: {},
    reset() {
      counter.counts = {};
    },
    of(...names) {
      return names.reduce((sum, n) => sum + (counter.counts[n] ?? 0), 0);
    },
    writes() {
      return counter.of('PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand');
    },
  };
  client.middlewareStack.add(
    (next, context) => (args) => {
      const name = String(context.commandName);
      counter.counts[name] = (counter.counts[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'testCommandCounter' },
  );
  return counter;
}

/** A cookie jar for one "browser". */
export class CookieJar {
  readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some(
        (a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1] ?? '') < Date.now(),
      );
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

/** Sends a request with the jar's cookies and stores the cookies it sets. */
export async function request(
  base: string,
  path: string,
  jar: CookieJar,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: unknown; res: Response }> {
  const headers: Record<string, string> = { cookie: jar.header() };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });
  jar.store(res);
  return { status: res.status, body: bodyOf(await res.text()), res };
}

/** An answer's body: parsed when it is JSON, else its text. */
export function bodyOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // not JSON
  }
}

/** Listens on 127.0.0.1 on a free port; returns the base URL. */
export function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    // a deep accept queue: the concurrency tests open a thousand connections at once
    server.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
  });
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The DynamoDB client an engine sends through (the one it made, or the one passed in). */
export function clientOf<T extends object>(engine: SessionEngine<T>): DynamoDBClient {
  const { client } = engineInternals(engine);
  if (!client) throw new Error('this engine has no DynamoDB client');
  return client;
}

/** An engine's options with every default applied. */
export function optionsOf<T extends object>(engine: SessionEngine<T>) {
  return engineInternals(engine).options;
}

/** A second "tab" of the same browser: a new jar holding a copy of the jar's cookies. */
export function copyJar(jar: CookieJar): CookieJar {
  const copy = new CookieJar();
  for (const [name, value] of jar.cookies) copy.cookies.set(name, value);
  return copy;
}

/** Resolves as `promise` does, or rejects naming `what` after `ms` milliseconds: every wait is bounded. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * When the cookie `name` set by a response expires (epoch ms, from `Max-Age` or `Expires`);
 * `null` for a browser-session cookie, `undefined` when the response does not set it.
 */
export function cookieExpiresAt(res: Response, name: string): number | null | undefined {
  const line = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  if (line === undefined) return undefined;
  const attrs = line.split(';').map((a) => a.trim());
  const maxAge = attrs.find((a) => /^max-age=/i.test(a));
  if (maxAge) return Date.now() + Number(maxAge.slice('max-age='.length)) * 1000;
  const expires = attrs.find((a) => /^expires=/i.test(a));
  return expires ? Date.parse(expires.slice('expires='.length)) : null;
}

/** The table key of a session id: the prefix and the id's hash, as the store writes it by default. */
export function keyOf(id: string, prefix = 'session#'): string {
  return prefix + hashOfId(id);
}

/** Asserts that a session no configured key opens reads as no session, and is counted. */
export async function unreadable(
  engine: { get(id: string): Promise<unknown>; stats(): { unreadable: number } },
  id: string,
  what = id,
): Promise<void> {
  const before = engine.stats().unreadable;
  assert.equal(await engine.get(id), null, what);
  assert.equal(engine.stats().unreadable, before + 1, `counted: ${what}`);
}

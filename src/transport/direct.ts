/**
 * The direct path: the engine's four item calls without the SDK's middleware stack, for a client the engine made itself
 * (no user middleware to keep). Every part is the client's own: its endpoint rules, its SigV4 signer
 * (credentials refreshed before they expire), its retry strategy (backoff, retry quota, adaptive
 * mode), its request handler (agent, proxy, timeouts) and its clock-skew correction. Only the JSON is
 * built with `JSON.stringify` and read with `JSON.parse`, which is most of the CPU the stack costs.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as dynamodb from '@aws-sdk/client-dynamodb';
import { getEndpointFromInstructions } from '@smithy/core/endpoints';
import { getRetryAfterHint, isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { sdkTransport } from './sdk.js';
import type { ItemOutput, TableTransport } from './types.js';

type Config = DynamoDBClient['config'];
type Strategy = Extract<Awaited<ReturnType<Config['retryStrategy']>>, { acquireInitialRetryToken: unknown }>;
type ErrorInfo = Parameters<Strategy['refreshRetryTokenForRetry']>[1];
type Signer = Awaited<ReturnType<Config['signer']>>;
type Request = Parameters<Signer['sign']>[0];
type Response = Awaited<ReturnType<Config['requestHandler']['handle']>>['response'];
type Endpoint = Awaited<ReturnType<typeof getEndpointFromInstructions>>;
type SdkError = Parameters<typeof isThrottlingError>[0];

const commands = {
  GetItem: dynamodb.GetItemCommand,
  PutItem: dynamodb.PutItemCommand,
  UpdateItem: dynamodb.UpdateItemCommand,
  DeleteItem: dynamodb.DeleteItemCommand,
};
type Operation = keyof typeof commands;

/** What is resolved once per client. */
interface Setup {
  signer: Signer;
  strategy: Strategy;
  maxAttempts: number;
  region: string;
  userAgent: string;
  skewCorrection: boolean;
}

/** Where one table's calls go, and how they are signed. */
interface Target {
  endpoint: Endpoint;
  signingRegion: string;
  signingService: string;
}

/** A DynamoDB error answer: the SDK's own exception class when it has one, `name` the error type. */
function serviceError(response: Response, text: string, attempts: number): dynamodb.DynamoDBServiceException {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch {
    // not JSON (a proxy's page): the status names the error
  }
  const type = String(response.headers['x-amzn-errortype'] ?? body.__type ?? body.code ?? '');
  const name = type.split(':')[0]?.split('#').pop() || `Http${response.statusCode}Error`;
  const message = String(body.message ?? body.Message ?? `HTTP ${response.statusCode}`);
  const $metadata = {
    httpStatusCode: response.statusCode,
    requestId: response.headers['x-amzn-requestid'],
    attempts,
  };
  // a failed condition returns the item it found (ReturnValuesOnConditionCheckFailure): bytes as the SDK gives them
  if (typeof body.Item === 'object' && body.Item !== null)
    for (const v of Object.values(body.Item)) decodeBinary(v);
  const ctor: unknown = Reflect.get(dynamodb, name);
  const modeled =
    typeof ctor === 'function' && ctor.prototype instanceof dynamodb.DynamoDBServiceException
      ? (ctor as new (
          o: object,
        ) => dynamodb.DynamoDBServiceException)
      : undefined;
  const err = modeled
    ? new modeled({ ...body, message, $metadata })
    : new dynamodb.DynamoDBServiceException({
        name,
        message,
        $fault: response.statusCode >= 500 ? 'server' : 'client',
        $metadata,
      });
  err.message = message;
  err.$response = response;
  return err;
}

/** The SDK's retry classes of an error (its retry middleware's, from the same predicates). */
function errorInfoOf(caught: Error, response: Response | undefined): ErrorInfo {
  const error = caught as SdkError;
  const errorType = isThrottlingError(error)
    ? 'THROTTLING'
    : isTransientError(error)
      ? 'TRANSIENT'
      : isServerError(error)
        ? 'SERVER_ERROR'
        : 'CLIENT_ERROR';
  const hint = response && getRetryAfterHint(response);
  return hint ? { error, errorType, retryAfterHint: hint } : { error, errorType };
}

/** The server's clock minus ours, as the SDK's signer estimates it (kept unless the answer is fresh). */
function clockOffsetOf(response: Response, current: number, sentAtMs: number): number {
  const date = response.headers.date;
  if (date === undefined || response.headers.age !== undefined) return current;
  const serverMs = Date.parse(date);
  const now = Date.now();
  if (Number.isNaN(serverMs) || now - sentAtMs > 900_000) return current;
  return serverMs - now;
}

/** JSON of a call's input; binary values as base64 (`Buffer#toJSON` runs before a replacer sees it). */
function bodyOf(input: object): string {
  return JSON.stringify(input, function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    return raw instanceof Uint8Array
      ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64')
      : value;
  });
}

/** Binary values arrive base64-encoded: back to bytes, as the SDK returns them (also inside M, L, BS). */
function decodeBinary(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  const av = value as Record<string, unknown>;
  if (typeof av.B === 'string') av.B = Buffer.from(av.B, 'base64');
  else if (Array.isArray(av.BS))
    av.BS = av.BS.map((b: unknown) => (typeof b === 'string' ? Buffer.from(b, 'base64') : b));
  else if (Array.isArray(av.L)) for (const v of av.L) decodeBinary(v);
  else if (typeof av.M === 'object' && av.M !== null) for (const v of Object.values(av.M)) decodeBinary(v);
}

function outputOf(text: string): ItemOutput {
  const out = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
  if (text.includes('"B')) {
    for (const item of [out.Item, out.Attributes]) {
      if (typeof item === 'object' && item !== null) for (const v of Object.values(item)) decodeBinary(v);
    }
  }
  return out as ItemOutput;
}

async function textOf(config: Config, body: unknown): Promise<string> {
  if (body && typeof body === 'object' && Symbol.asyncIterator in body) {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
  }
  return body ? Buffer.from(await config.streamCollector(body)).toString('utf8') : '';
}

function userAgentOf(pairs: [string, string?][], extra: string[]): string {
  const clean = (s: string) => s.replace(/[^!$%&'*+\-.^_`|~\w/#]/g, '-');
  const parts = pairs.map(([name, version]) =>
    version === undefined ? clean(name) : `${clean(name)}${name.includes('/') ? '#' : '/'}${clean(version)}`,
  );
  return [...parts, 'lib/dynamodb-sessions', ...extra].join(' ');
}

async function prepare(config: Config): Promise<Setup | null> {
  const strategy = await config.retryStrategy();
  // endpoint discovery and legacy retry strategies need the middleware stack
  if (!('acquireInitialRetryToken' in strategy) || (await config.endpointDiscoveryEnabled()) === true)
    return null;
  const appId = await config.userAgentAppId();
  const custom = config.customUserAgent;
  const extra = [
    ...(appId ? [`app/${appId}`] : []),
    ...(typeof custom === 'string' ? [custom] : (custom ?? []).map(([n, v]) => (v ? `${n}/${v}` : n))),
  ];
  return {
    signer: await config.signer(),
    strategy,
    maxAttempts: await config.maxAttempts(),
    region: await config.region(),
    userAgent: userAgentOf(await config.defaultUserAgentProvider(), extra),
    skewCorrection: (await config.disableClockSkewCorrection()) !== true,
  };
}

/** Calls `onChange` when middleware is added to or removed from the client's stack. */
function watchStack(client: DynamoDBClient, onChange: () => void): void {
  const stack = client.middlewareStack as unknown as Record<string, unknown>;
  for (const name of ['add', 'addRelativeTo', 'use', 'remove', 'removeByTag']) {
    const original = stack[name];
    if (typeof original !== 'function') continue;
    stack[name] = function (this: unknown, ...args: unknown[]): unknown {
      onChange();
      return original.apply(this, args);
    };
  }
}

/**
 * The item calls signed and sent by hand through the client's own configuration; calls the client's
 * `send` (its whole stack) where that configuration needs it (endpoint discovery, a legacy retry
 * strategy, an endpoint that is not signed with SigV4), and from the moment any middleware is added to
 * the client, so that it sees every call. Only for a client the engine made.
 * @internal
 */
export function directTransport(client: DynamoDBClient): TableTransport {
  const config = client.config;
  const sdk = sdkTransport(client);
  let setup: Promise<Setup | null> | undefined;
  const targets = new Map<string, Promise<Target | null>>();
  let stackChanged = false;
  watchStack(client, () => {
    stackChanged = true;
  });

  async function targetOf(op: Operation, input: { TableName?: string | undefined }, s: Setup) {
    const identity = await config.credentials();
    const id = `${op}\n${input.TableName}\n${identity.accountId ?? ''}`;
    let target = targets.get(id);
    if (!target) {
      target = getEndpointFromInstructions(input, commands[op], config).then((endpoint) => {
        const scheme = (
          endpoint.properties?.authSchemes as
            | { name?: string; signingRegion?: string; signingName?: string }[]
            | undefined
        )?.[0];
        if (scheme && scheme.name !== 'sigv4') return null;
        return {
          endpoint,
          signingRegion: scheme?.signingRegion ?? s.region,
          signingService: scheme?.signingName ?? 'dynamodb',
        };
      });
      target.catch(() => targets.delete(id));
      targets.set(id, target);
    }
    return target;
  }

  async function attempt(body: string, t: Target, s: Setup, headers: Record<string, string>) {
    const url = t.endpoint.url;
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const request: Request = {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port !== '' && { port: Number(url.port) }),
      path: url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`,
      query,
      headers,
      body,
    };
    const offset = config.systemClockOffset ?? 0;
    const sentAtMs = Date.now();
    const signed = await s.signer.sign(request, {
      signingDate: new Date(s.skewCorrection ? sentAtMs + offset : sentAtMs),
      signingRegion: t.signingRegion,
      signingService: t.signingService,
    });
    const { response } = await config.requestHandler.handle(signed);
    const text = await textOf(config, response.body);
    const newOffset = s.skewCorrection ? clockOffsetOf(response, offset, sentAtMs) : offset;
    config.systemClockOffset = newOffset;
    if (response.statusCode >= 200 && response.statusCode < 300) return outputOf(text);
    const err = serviceError(response, text, 0);
    // the SDK retries once a request signed with a clock more than 4 minutes off
    if (Math.abs(newOffset) >= 240_000 && newOffset !== offset)
      Object.assign(err.$metadata, { clockSkewCorrected: true });
    throw err;
  }

  async function call(
    op: Operation,
    input: { TableName?: string | undefined },
    send: () => Promise<ItemOutput>,
  ) {
    if (stackChanged) return send();
    setup ??= prepare(config).catch((err: unknown) => {
      setup = undefined;
      throw err;
    });
    const s = await setup.catch(() => null); // the SDK's stack reports a broken configuration its own way
    const t = s && (await targetOf(op, input, s));
    if (!s || !t) return send();
    const body = bodyOf(input);
    const headers: Record<string, string> = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${op}`,
      'content-length': String(Buffer.byteLength(body)),
      host: t.endpoint.url.host,
      'user-agent': s.userAgent,
      'amz-sdk-invocation-id': randomUUID(),
    };
    for (const [name, values] of Object.entries(t.endpoint.headers ?? {})) headers[name] = values.join(',');
    let token = await s.strategy.acquireInitialRetryToken('');
    for (let attempts = 1; ; attempts++) {
      headers['amz-sdk-request'] = `attempt=${attempts}; max=${s.maxAttempts}`;
      try {
        const out = await attempt(body, t, s, { ...headers });
        s.strategy.recordSuccess(token);
        return out;
      } catch (caught) {
        const err = caught instanceof Error ? caught : new Error(String(caught));
        const metadata = Reflect.get(err, '$metadata') as Record<string, unknown> | undefined;
        if (metadata) metadata.attempts = attempts;
        else Reflect.set(err, '$metadata', { attempts });
        try {
          const response = Reflect.get(err, '$response') as Response | undefined;
          token = await s.strategy.refreshRetryTokenForRetry(token, errorInfoOf(err, response));
        } catch {
          throw err;
        }
        const delayMs = token.getRetryDelay();
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  return {
    getItem: (input) => call('GetItem', input, () => sdk.getItem(input)),
    putItem: (input) => call('PutItem', input, () => sdk.putItem(input)),
    updateItem: (input) => call('UpdateItem', input, () => sdk.updateItem(input)),
    deleteItem: (input) => call('DeleteItem', input, () => sdk.deleteItem(input)),
    // rare calls (per-user operations): the SDK's stack costs nothing that matters there
    query: sdk.query,
    batchGetItem: sdk.batchGetItem,
    batchWriteItem: sdk.batchWriteItem,
  };
}

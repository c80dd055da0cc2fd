/**
 * The direct path: the engine's four item calls without the SDK's middleware stack, for a client
 * whose stack holds nothing of the app's: the client the engine made, or a client passed in that has
 * only the SDK's own middleware and the SDK's own `send`. Every part is the client's own: its endpoint
 * rules, its SigV4 signer (credentials refreshed before they expire), its retry strategy (backoff,
 * retry quota, adaptive mode), its request handler (agent, proxy, timeouts), its clock-skew
 * correction and its protocol's error parsing. Only the JSON is built with `JSON.stringify` and read
 * with `JSON.parse`, which is most of the CPU the stack costs.
 *
 * It is an optimisation, never a reason to fail: when any of those parts fails in a way the SDK's
 * own stack would not (a credential or endpoint provider that throws, a signer or request handler of
 * another shape after an SDK upgrade, a request DynamoDB refuses as badly signed or serialized but
 * the SDK gets through), that call and every later one go through the client's `send`.
 */
import { hash, randomUUID } from 'node:crypto';
import { debuglog } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as dynamodb from '@aws-sdk/client-dynamodb';
import type * as Endpoints from '@smithy/core/endpoints';
import type * as Retry from '@smithy/core/retry';
import { type Deadline, takesLightSignal } from './deadline.js';
import { isTracing, otelApi, type Sent, traced } from './otel.js';
import { sdkTransport } from './sdk.js';
import { RequestSigner, type SigningIdentity } from './sigv4.js';
import type { CallOptions, ItemOutput, TableTransport } from './types.js';
import {
  bodyOf,
  clockOffsetOf,
  deserializationHint,
  metadataOf,
  outputOf,
  serviceErrorOf,
  textOf,
  urlPartsOf,
  userAgentOf,
  type WireResponse,
} from './wire.js';

const debug = debuglog('dynamodb-sessions');

type Config = DynamoDBClient['config'];
type Strategy = Extract<Awaited<ReturnType<Config['retryStrategy']>>, { acquireInitialRetryToken: unknown }>;
type Token = Awaited<ReturnType<Strategy['acquireInitialRetryToken']>>;
type ErrorInfo = Parameters<Strategy['refreshRetryTokenForRetry']>[1];
type Signer = Awaited<ReturnType<Config['signer']>>;
type Request = Parameters<Signer['sign']>[0];
type Endpoint = Awaited<ReturnType<typeof Endpoints.getEndpointFromInstructions>>;
type SdkError = Parameters<typeof Retry.isThrottlingError>[0];

const commands = {
  GetItem: dynamodb.GetItemCommand,
  PutItem: dynamodb.PutItemCommand,
  UpdateItem: dynamodb.UpdateItemCommand,
  DeleteItem: dynamodb.DeleteItemCommand,
};
type Operation = keyof typeof commands;

/** Errors DynamoDB gives a request it cannot read or authenticate: the SDK is asked to send it instead. */
const refusedRequest = new Set([
  'SerializationException',
  'IncompleteSignatureException',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'InvalidSignatureException',
]);

const configurationNeedsStack =
  'the client needs its middleware stack (a logger, endpoint discovery, a legacy retry strategy or an endpoint not signed with SigV4)';

/** What is resolved once per client. */
interface Setup {
  endpoints: typeof Endpoints;
  retry: typeof Retry;
  signer: Signer;
  strategy: Strategy;
  maxAttempts: number;
  region: string;
  userAgent: string;
  skewCorrection: boolean;
  /** Whether the request handler is one of the SDK's Node.js handlers, which take a light abort signal. */
  lightSignal: boolean;
  /** Whether the client's signer is the SDK's own `SignatureV4`: requests to `/` are then signed here, as it signs them. */
  ownSigning: boolean;
  /** Whether the signer sends the body's SHA-256 (`x-amz-content-sha256`), as SigV4 signers do by default. */
  payloadHash: boolean;
}

/** Where one table's calls go, and how they are signed. */
interface Target {
  /** A POST to `/` without a query string: what `RequestSigner` signs. */
  plain: boolean;
  endpoint: Endpoint;
  host: string;
  request: Omit<Request, 'headers' | 'body'>;
  signingRegion: string;
  signingService: string;
}

/** What one call is sent with. */
interface Plan {
  s: Setup;
  t: Target;
  identity: SigningIdentity;
}

/** A part of the direct path failed: the call is sent through the client's `send` instead. */
class Fallback extends Error {
  constructor(reason: string, cause?: unknown) {
    super(reason, cause === undefined ? undefined : { cause });
  }
}

/** Programming errors, as a part of another shape throws them (a network error is none of these). */
function isShapeError(err: unknown): boolean {
  return err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError;
}

/**
 * The SDK's endpoint and retry functions, loaded at the first call rather than when the package is
 * imported (the direct path is not needed to make a store: a serverless cold start does not pay for it).
 */
let smithy: Promise<{ endpoints: typeof Endpoints; retry: typeof Retry }> | undefined;
function loadSmithy() {
  smithy ??= Promise.all([import('@smithy/core/endpoints'), import('@smithy/core/retry')]).then(
    ([endpoints, retry]) => ({ endpoints, retry }),
  );
  return smithy;
}

/** The SDK's retry classes of an error (its retry middleware's, from the same predicates). */
function errorInfoOf(retry: typeof Retry, error: SdkError, response: unknown): ErrorInfo {
  const errorType = retry.isThrottlingError(error)
    ? 'THROTTLING'
    : retry.isTransientError(error)
      ? 'TRANSIENT'
      : retry.isServerError(error)
        ? 'SERVER_ERROR'
        : 'CLIENT_ERROR';
  const hint = response
    ? retry.getRetryAfterHint(response as Parameters<typeof retry.getRetryAfterHint>[0])
    : undefined;
  return hint ? { error, errorType, retryAfterHint: hint } : { error, errorType };
}

/** Whether a client's logger is the SDK's default, which logs nothing (its stack logs every call to any other). */
function logsNothing(logger: unknown): boolean {
  return (logger as { constructor?: { name?: unknown } } | undefined)?.constructor?.name === 'NoOpLogger';
}

async function prepare(config: Config): Promise<Setup | null> {
  if (!logsNothing(config.logger)) return null;
  const { endpoints, retry } = await loadSmithy();
  const strategy = await config.retryStrategy();
  // endpoint discovery and legacy retry strategies need the middleware stack
  if (
    !('acquireInitialRetryToken' in strategy) ||
    typeof strategy.refreshRetryTokenForRetry !== 'function' ||
    typeof strategy.recordSuccess !== 'function' ||
    (await config.endpointDiscoveryEnabled()) === true
  )
    return null;
  const appId = await config.userAgentAppId();
  const custom = config.customUserAgent;
  const extra = [
    ...(appId ? [`app/${appId}`] : []),
    ...(typeof custom === 'string' ? [custom] : (custom ?? []).map(([n, v]) => (v ? `${n}/${v}` : n))),
  ];
  const signer = await config.signer();
  if (typeof signer?.sign !== 'function') return null;
  return {
    endpoints,
    retry,
    signer,
    strategy,
    maxAttempts: await config.maxAttempts(),
    region: await config.region(),
    userAgent: userAgentOf(await config.defaultUserAgentProvider(), extra),
    skewCorrection: (await config.disableClockSkewCorrection()) !== true,
    payloadHash: Reflect.get(signer, 'applyChecksum') !== false,
    lightSignal: takesLightSignal(config.requestHandler),
    ownSigning:
      signer.constructor?.name === 'SignatureV4' && Reflect.get(config, 'signerConstructor') === undefined,
  };
}

async function targetOf(config: Config, op: Operation, input: object, s: Setup): Promise<Target | null> {
  const endpoint = await s.endpoints.getEndpointFromInstructions(input, commands[op], config);
  const scheme = (
    endpoint.properties?.authSchemes as
      | { name?: string; signingRegion?: string; signingName?: string }[]
      | undefined
  )?.[0];
  if (scheme && scheme.name !== 'sigv4') return null;
  const { port, ...where } = urlPartsOf(endpoint.url);
  return {
    plain: where.path === '/' && Object.keys(where.query).length === 0,
    endpoint,
    host: endpoint.url.host,
    request: { method: 'POST', ...where, ...(port !== undefined && { port }) },
    signingRegion: scheme?.signingRegion ?? s.region,
    signingService: scheme?.signingName ?? 'dynamodb',
  };
}

/** The middleware of a new client, which the SDK adds itself (`identify()`), made at the first look. */
let sdkStack: string | undefined;
const stackOf = (client: DynamoDBClient): string => client.middlewareStack.identify().join('\n');

/**
 * Whether a client passed in may take the direct path: one of the SDK's `DynamoDBClient`s (not a
 * document client, not another copy of the SDK) whose stack holds only the middleware every new
 * client has. A middleware of the app's (its own, X-Ray's `captureAWSv3Client`) must see every call.
 * @internal
 */
export function hasOnlySdkMiddleware(client: unknown): client is DynamoDBClient {
  if (!(client instanceof dynamodb.DynamoDBClient)) return false;
  try {
    if (sdkStack === undefined) {
      const fresh = new dynamodb.DynamoDBClient({});
      sdkStack = stackOf(fresh);
      fresh.destroy();
    }
    return stackOf(client) === sdkStack;
  } catch (err) {
    debug('the client passed in keeps its send: its middleware could not be listed %o', err);
    return false;
  }
}

/** What is known of each `send` function met: whether it is the SDK's own. */
const sdkSends = new WeakMap<object, boolean>();

/**
 * Whether `send` is the SDK's own: not replaced or wrapped by an instrumentation (an APM agent,
 * OpenTelemetry's AWS SDK instrumentation) or by the app, which must then see every call. A wrapper,
 * a bound function or a proxy has other source text than the SDK's, which resolves the command's
 * middleware itself.
 */
function isSdkSend(send: unknown): boolean {
  if (typeof send !== 'function') return false;
  let own = sdkSends.get(send);
  if (own === undefined) {
    own =
      !Object.hasOwn(send, '__wrapped') &&
      !Object.hasOwn(send, '__original') &&
      Function.prototype.toString.call(send).includes('.resolveMiddleware(');
    sdkSends.set(send, own);
  }
  return own;
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

/** Waits `ms` before a retry, unless the deadline passes first. */
function sleep(ms: number, deadline: Deadline | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!deadline) {
      setTimeout(resolve, ms);
      return;
    }
    const signal = deadline.signal(true);
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/**
 * The item calls signed and sent by hand through the client's own configuration; calls the client's
 * `send` (its whole stack) where that configuration needs it (a logger, endpoint discovery, a legacy
 * retry strategy, an endpoint that is not signed with SigV4), from the moment any middleware is
 * added to the client, so that it sees every call, and for good once a part of the direct path
 * failed. For the client the engine made, and for a client passed in that `hasOnlySdkMiddleware`;
 * the calls of a client passed in also go through its `send` while that is not the SDK's own (an
 * instrumentation wrapped it).
 * @internal
 */
export function directTransport(client: DynamoDBClient, passedIn = false): TableTransport {
  const config = client.config;
  const sdk = sdkTransport(client, true);
  const signer = new RequestSigner();
  let direct = true;
  // promises, so that the calls of a burst at start-up share one preparation (dropped when it fails)
  let setup: Promise<Setup | null> | undefined;
  const targets = new Map<string, Promise<Target | null>>();
  const off = (reason: string, err?: unknown): void => {
    if (direct) debug('direct path off, calls go through the SDK from now on: %s %o', reason, err ?? '');
    direct = false;
  };
  watchStack(client, () => off('middleware added to the client'));

  /**
   * Everything a call needs before its first attempt; `null` when the client's configuration needs
   * the SDK's stack, a `Fallback` when a part fails.
   */
  async function ready(op: Operation, input: { TableName?: string | undefined }): Promise<Plan | null> {
    try {
      setup ??= prepare(config).catch((err: unknown) => {
        setup = undefined;
        throw err;
      });
      const s = await setup;
      if (!s) return null;
      const identity = await config.credentials();
      if (typeof identity?.accessKeyId !== 'string' || typeof identity.secretAccessKey !== 'string')
        throw new Fallback('the credentials have another shape');
      const key = `${op}\n${input.TableName}\n${identity.accountId ?? ''}`;
      let found = targets.get(key);
      if (!found) {
        found = targetOf(config, op, input, s).catch((err: unknown) => {
          targets.delete(key);
          throw err;
        });
        targets.set(key, found);
      }
      const t = await found;
      return t && { s, t, identity };
    } catch (err) {
      throw err instanceof Fallback ? err : new Fallback('a part of the client failed', err);
    }
  }

  /** DynamoDB's error answer as the client's own protocol makes it (the SDK's exact exception) when it can. */
  async function errorOf(op: Operation, response: WireResponse, text: string): Promise<Error> {
    const protocol = (config as { protocol?: { deserializeResponse?: unknown } }).protocol;
    const schema: unknown = Reflect.get(dynamodb, `${op}$`);
    let err: Error | undefined;
    if (typeof protocol?.deserializeResponse === 'function' && Array.isArray(schema)) {
      const [, namespace, name, traits, input, output] = schema;
      const answer = { ...response, body: Buffer.from(text) };
      const context = { ...config };
      await Promise.resolve(
        protocol.deserializeResponse.call(
          protocol,
          { namespace, name, traits, input, output },
          context,
          answer,
        ),
      ).catch((e: unknown) => {
        if (!(e instanceof Error)) return;
        err = e;
        // as the SDK's deserialization middleware decorates what the protocol throws
        if (!('$metadata' in e)) {
          e.message += `\n  ${deserializationHint}`;
          Object.assign(e, { $metadata: metadataOf(response) });
        }
      });
    }
    err ??= serviceErrorOf(response, text);
    Object.defineProperty(err, '$response', { value: response, enumerable: false });
    return err;
  }

  /** One attempt: signed, sent, read. A `Fallback` when a part has another shape than expected. */
  async function attempt(
    op: Operation,
    body: string,
    payloadHash: string,
    plan: Plan,
    headers: Record<string, string>,
    options: CallOptions | undefined,
  ): Promise<Sent> {
    const { s, t } = plan;
    const offset = config.systemClockOffset ?? 0;
    const sentAtMs = Date.now();
    const signingDate = new Date(s.skewCorrection ? sentAtMs + offset : sentAtMs);
    let signed: Request;
    try {
      if (s.ownSigning && t.plain) {
        signer.sign(
          headers,
          payloadHash,
          s.payloadHash,
          plan.identity,
          signingDate,
          t.signingRegion,
          t.signingService,
        );
        signed = { ...t.request, headers, body } as Request;
      } else {
        // the header the signer adds with the body's hash: given, it is used as is (one hash less, same request)
        const withHash = s.payloadHash ? { ...headers, 'x-amz-content-sha256': payloadHash } : headers;
        signed = await s.signer.sign({ ...t.request, headers: withHash, body } as Request, {
          signingDate,
          signingRegion: t.signingRegion,
          signingService: t.signingService,
        });
      }
    } catch (err) {
      throw new Fallback('the signer failed', err);
    }
    if (typeof signed?.headers?.authorization !== 'string')
      throw new Fallback('the signer gave no authorization');
    let response: WireResponse;
    let text: string;
    try {
      const deadline = options?.deadline;
      const handled = await config.requestHandler.handle(
        signed,
        deadline ? { abortSignal: deadline.signal(s.lightSignal) } : {},
      );
      response = handled?.response as WireResponse;
      if (typeof response?.statusCode !== 'number' || typeof response.headers !== 'object')
        throw new Fallback('the request handler gave an answer of another shape');
      text = await textOf(response.body, (b) => config.streamCollector(b as never));
    } catch (err) {
      if (err instanceof Fallback) throw err;
      if (isShapeError(err)) throw new Fallback('the request handler failed', err);
      throw err; // the network's: retried as the SDK would
    }
    const newOffset = s.skewCorrection ? clockOffsetOf(response, offset, sentAtMs) : offset;
    config.systemClockOffset = newOffset;
    if (response.statusCode >= 200 && response.statusCode < 300) {
      let out: ItemOutput;
      try {
        out = outputOf(text);
      } catch {
        throw serviceErrorOf(response, text); // the SDK's SyntaxError, with the answer's metadata
      }
      return { out, metadata: metadataOf(response) };
    }
    const err = await errorOf(op, response, text);
    // the SDK retries once a request signed with a clock more than 4 minutes off
    const metadata = Reflect.get(err, '$metadata') as Record<string, unknown> | undefined;
    if (metadata && Math.abs(newOffset) >= 240_000 && newOffset !== offset)
      metadata.clockSkewCorrected = true;
    throw err;
  }

  /** The SDK's retry loop (its retry middleware's steps, on the client's own strategy). */
  async function send(
    op: Operation,
    input: object,
    plan: Plan,
    options: CallOptions | undefined,
  ): Promise<Sent> {
    const { s, t } = plan;
    const body = bodyOf(input);
    const payloadHash = hash('sha256', body, 'hex');
    const headers: Record<string, string> = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${op}`,
      'content-length': String(Buffer.byteLength(body)),
      host: t.host,
      'user-agent': s.userAgent,
      'amz-sdk-invocation-id': randomUUID(),
    };
    for (const [name, values] of Object.entries(t.endpoint.headers ?? {}))
      headers[name.toLowerCase()] = values.join(', '); // as the SDK's protocols join them
    const deadline = options?.deadline;
    let token: Token = await s.strategy.acquireInitialRetryToken('');
    let attempts = 0;
    let totalRetryDelay = 0;
    for (;;) {
      headers['amz-sdk-request'] = `attempt=${attempts + 1}; max=${s.maxAttempts}`;
      try {
        const sent = await attempt(op, body, payloadHash, plan, headers, options);
        s.strategy.recordSuccess(token);
        return sent;
      } catch (caught) {
        if (caught instanceof Fallback) throw caught;
        const err = (caught instanceof Error ? caught : Object.assign(new Error(), caught)) as SdkError;
        try {
          if (deadline?.expired) throw err;
          token = await s.strategy.refreshRetryTokenForRetry(
            token,
            errorInfoOf(s.retry, err, Reflect.get(err, '$response')),
          );
        } catch {
          err.$metadata ??= {};
          Object.assign(err.$metadata, { attempts: attempts + 1, totalRetryDelay });
          throw err;
        }
        attempts = token.getRetryCount();
        const delay = token.getRetryDelay();
        const log = (token as { $retryLog?: { acquisitionDelay?: number } }).$retryLog;
        totalRetryDelay += (log?.acquisitionDelay ?? 0) + delay;
        if (delay > 0) await sleep(delay, deadline);
      }
    }
  }

  /**
   * Sends through the SDK a call the direct path could not send. When the SDK gets it through, the
   * fault was the direct path's: later calls go through the SDK too. When the SDK fails as well, the
   * fault was not (DynamoDB, the network, the credentials are down for both): its error is the answer.
   */
  async function fallBack(reason: Fallback | Error, viaSdk: () => Promise<ItemOutput>): Promise<Sent> {
    const out = await viaSdk();
    off(reason.message, reason instanceof Fallback ? reason.cause : reason);
    const metadata = (out as { $metadata?: Sent['metadata'] }).$metadata ?? {};
    return { out, metadata };
  }

  /** Sent directly; through the SDK when a part of the direct path fails or DynamoDB cannot read the request. */
  async function sendOrFallBack(
    op: Operation,
    input: object,
    plan: Plan,
    options: CallOptions | undefined,
    viaSdk: () => Promise<ItemOutput>,
  ): Promise<Sent> {
    try {
      return await send(op, input, plan, options);
    } catch (err) {
      const refused =
        err instanceof Error && refusedRequest.has(err.name) && !err.message.includes('Signature expired');
      if (err instanceof Fallback || refused) return fallBack(err as Error, viaSdk);
      throw err;
    }
  }

  /** A call: sent directly (in a span when the app has OpenTelemetry), or through the SDK. */
  async function call(
    op: Operation,
    input: { TableName?: string | undefined; ConsistentRead?: boolean | undefined },
    options: CallOptions | undefined,
    viaSdk: () => Promise<ItemOutput>,
  ): Promise<ItemOutput> {
    if (!direct || (passedIn && !isSdkSend(client.send))) return viaSdk();
    let plan: Plan | null;
    try {
      plan = await ready(op, input);
    } catch (err) {
      // nothing was sent: the SDK's stack (and any instrumentation of its `send`) takes the call
      return (await fallBack(err as Error, viaSdk)).out;
    }
    if (!plan) {
      off(configurationNeedsStack);
      return viaSdk();
    }
    const found = otelApi();
    const otel = found instanceof Promise ? await found : found;
    const run = () => sendOrFallBack(op, input, plan, options, viaSdk);
    return otel && isTracing(otel) ? traced(otel, op, input, plan.s.region, run) : (await run()).out;
  }

  return {
    getItem: (input, options) => call('GetItem', input, options, () => sdk.getItem(input, options)),
    putItem: (input, options) => call('PutItem', input, options, () => sdk.putItem(input, options)),
    updateItem: (input, options) => call('UpdateItem', input, options, () => sdk.updateItem(input, options)),
    deleteItem: (input, options) => call('DeleteItem', input, options, () => sdk.deleteItem(input, options)),
    // rare calls (per-user operations): the SDK's stack costs nothing that matters there
    query: sdk.query,
    batchGetItem: sdk.batchGetItem,
  };
}

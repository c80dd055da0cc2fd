/**
 * The direct path: the engine's four item calls without the SDK's middleware stack, for a client
 * whose stack holds nothing of the app's: the client the engine made, or a client passed in that has
 * only the SDK's own middleware and the SDK's own `send`. Every part is the client's own: its endpoint
 * rules, its SigV4 signer (credentials refreshed before they expire), its retry strategy (backoff,
 * retry quota, adaptive mode), its request handler (agent, proxy, timeouts), its clock-skew
 * correction and its protocol's error parsing. Only the JSON is built with `JSON.stringify` and read
 * with `JSON.parse`, which is most of the CPU the stack costs.
 *
 * It is taken only where it sends what `send` sends, decided on each call from the client as it is
 * then: a property of its configuration given another value, middleware added to its stack or its
 * `send` wrapped are seen at the next call. Whatever it cannot match (a logger, an auth scheme of the
 * app's, endpoint discovery, a legacy retry strategy) goes through `send`. It is an optimisation,
 * never a reason to fail: a part that fails in a way the SDK's stack would not sends that call
 * through `send`; a part of another shape, or a request DynamoDB refuses as badly signed while the
 * SDK gets it through, keeps the direct path off until the client's configuration changes, while a
 * provider that failed once (credentials, endpoint rules) does so only for as long as it keeps failing.
 */
import { hash, randomUUID } from 'node:crypto';
import { debuglog } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as dynamodb from '@aws-sdk/client-dynamodb';
import type * as Retry from '@smithy/core/retry';
import {
  type ClientClass,
  isPlainStack,
  isUnchanged,
  type Snapshot,
  type StackWatch,
  snapshotOf,
  unwatchStack,
  watchStack,
} from './client-state.js';
import type { Deadline } from './deadline.js';
import {
  agentsOf,
  type Config,
  type DirectOptions,
  endpointKeyOf,
  type Identity,
  type Operation,
  type Plan,
  prepare,
  type Request,
  type Setup,
  type Signer,
  type Strategy,
  type Target,
  targetOf,
} from './direct-setup.js';
import { errorText } from './log.js';
import { isTracing, otelApi, type Sent, traced } from './otel.js';
import { sdkTransport } from './sdk.js';
import { RequestSigner } from './sigv4.js';
import type { CallOptions, ItemOutput, TableTransport } from './types.js';
import {
  bodyOf,
  clockOffsetOf,
  deserializationHint,
  metadataOf,
  outputOf,
  serviceErrorOf,
  textOf,
  type WireResponse,
} from './wire.js';

export type { DirectOptions } from './direct-setup.js';

const debug = debuglog('dynamodb-sessions');

type Token = Awaited<ReturnType<Strategy['acquireInitialRetryToken']>>;
type ErrorInfo = Parameters<Strategy['refreshRetryTokenForRetry']>[1];
type SdkError = Parameters<typeof Retry.isThrottlingError>[0];

/** Errors DynamoDB gives a request it cannot read or authenticate: the SDK is asked to send it instead. */
const refusedRequest = new Set([
  'SerializationException',
  'IncompleteSignatureException',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'InvalidSignatureException',
]);

const configurationNeedsStack =
  'the client needs its middleware stack (a logger, auth schemes of the app, endpoint discovery, a legacy retry strategy or an endpoint not signed with SigV4)';

/** The direct path for one state of the client's configuration (the values of its properties, by reference). */
interface State {
  seen: Snapshot;
  // a promise, so that the calls of a burst at start-up share one preparation (dropped when it fails)
  setup: Promise<Setup | null> | undefined;
  targets: Map<string, Promise<Target | null>>;
  /** Why the direct path is off while the configuration stays as it is; `undefined`: on. */
  off: string | undefined;
  /** Calls in a row that a part failed and the SDK got through: after the second, a pause. */
  transient: number;
  /** Until when (epoch ms) calls go through `send` after transient failures in a row; 0: none. */
  pausedUntilMs: number;
}

/** A part of the direct path failed: the call is sent through the client's `send` instead. */
class Fallback extends Error {
  /**
   * @param lasting - a part of another shape, which will fail again: the direct path stays off until
   * the configuration changes; otherwise only this call goes through `send`
   */
  constructor(
    reason: string,
    cause?: unknown,
    readonly lasting = true,
  ) {
    super(reason, cause === undefined ? undefined : { cause });
  }
}

/** Programming errors, as a part of another shape throws them (a network error is none of these). */
function isShapeError(err: unknown): boolean {
  return err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError;
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

/**
 * Whether a client passed in may take the direct path: one of the SDK's `DynamoDBClient`s (not a
 * document client, not another copy of the SDK) whose stack holds only the middleware every new
 * client has. A middleware of the app's (its own, X-Ray's `captureAWSv3Client`) must see every call.
 * @internal
 */
export function hasOnlySdkMiddleware(client: unknown): client is DynamoDBClient {
  if (!(client instanceof dynamodb.DynamoDBClient)) return false;
  try {
    return isPlainStack(client.middlewareStack, dynamodb.DynamoDBClient);
  } catch (err) {
    debug('the client passed in keeps its send: its middleware could not be listed: %s', errorText(err));
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

/** A new state of the direct path for the client's configuration as it is now. */
function stateOf(config: Config): State {
  return {
    seen: snapshotOf(config),
    setup: undefined,
    targets: new Map(),
    off: undefined,
    transient: 0,
    pausedUntilMs: 0,
  };
}

/** Ms of `send` after transient failures in a row: none after the first, then 1 s doubling to a minute. */
function pauseAfter(failures: number): number {
  return failures < 2 ? 0 : Math.min(60_000, 1000 * 2 ** (failures - 2));
}

/**
 * The item calls signed and sent by hand through the client's own configuration; through the
 * client's `send` (its whole stack) while its configuration needs it, while its stack holds middleware
 * of the app's (so that it sees every call), while a passed-in client's `send` is not the SDK's own
 * (an instrumentation wrapped it), and after a part of the direct path failed (see `Fallback`).
 * `close()` ends its watch on the client's stack. @internal
 */
export function directTransport(
  client: DynamoDBClient,
  known: DirectOptions = {},
): TableTransport & { close(): void } {
  const config = client.config;
  // a new client of the same SDK is what this one is compared with (a test may bring another copy)
  const Client = client.constructor as ClientClass;
  const sdk = sdkTransport(client, true);
  const signer = new RequestSigner();
  const passedIn = known.passedIn === true;
  let state = stateOf(config);
  let stack: object = client.middlewareStack;
  let watch: StackWatch | undefined = watchStack(stack);
  let plain = true;

  /** Whether the client's stack holds only the SDK's middleware now; watches a stack put in its place. */
  function isPlain(): boolean {
    const now = client.middlewareStack;
    if (now !== stack && watch) {
      unwatchStack(stack, watch);
      stack = now;
      watch = watchStack(now);
    }
    const was = plain;
    plain = isPlainStack(now, Client);
    if (was !== plain)
      debug(
        plain
          ? 'the client holds only the SDK middleware again'
          : 'middleware added to the client: calls go through its send',
      );
    return plain;
  }

  const turnOff = (st: State, reason: string, err?: unknown): void => {
    if (st.off === undefined)
      debug(
        'direct path off until the client configuration changes, calls go through the SDK: %s%s',
        reason,
        err === undefined ? '' : ` (${errorText(err)})`,
      );
    st.off = reason;
  };

  /**
   * Everything a call needs before its first attempt; `null` when the client's configuration needs
   * the SDK's stack. Throws what a provider of the client threw, or a `Fallback` for a part of another shape.
   */
  async function ready(
    st: State,
    op: Operation,
    input: { TableName?: string | undefined },
  ): Promise<Plan | null> {
    st.setup ??= prepare(config, Client, known).catch((err: unknown) => {
      st.setup = undefined;
      throw err;
    });
    const s = await st.setup;
    if (!s) return null;
    const identity = (await config.credentials()) as Identity;
    if (typeof identity?.accessKeyId !== 'string' || typeof identity.secretAccessKey !== 'string')
      throw new Fallback('the credentials have another shape');
    const region = s.region ?? (await config.region());
    const endpoint = s.askEndpoint ? await (config.endpoint as () => Promise<unknown>)() : undefined;
    const key = `${op}\n${input.TableName}\n${identity.accountId ?? ''}\n${region}\n${endpoint === undefined ? '' : endpointKeyOf(endpoint)}`;
    let found = st.targets.get(key);
    if (!found) {
      if (st.targets.size >= 64) st.targets.clear(); // an endpoint function may name ever new hosts
      found = targetOf(config, op, input, region, endpoint, s).catch((err: unknown) => {
        st.targets.delete(key);
        throw err;
      });
      st.targets.set(key, found);
    }
    const t = await found;
    return t && { s, t, identity, region };
  }

  /** DynamoDB's answer as the client's own protocol reads it (the SDK's exact exception) when it can. */
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

  /**
   * Signs a request: here, at once, when the signer is the SDK's default and the path is `/`; else by
   * the client's signer, asked for as the SDK's SigV4 auth scheme asks for it (on every call, given
   * the endpoint's auth scheme).
   */
  function signed(
    plan: Plan,
    headers: Record<string, string>,
    body: string,
    payloadHash: string,
    signingDate: Date,
  ): Request | Promise<Request> {
    const { s, t } = plan;
    if (!s.ownSigning || !t.plain) return signedByClient(t, headers, body, payloadHash, signingDate);
    signer.sign(
      headers,
      payloadHash,
      s.payloadHash,
      plan.identity,
      signingDate,
      t.signingRegion,
      t.signingService,
    );
    return { ...t.request, headers, body } as Request;
  }

  async function signedByClient(
    t: Target,
    headers: Record<string, string>,
    body: string,
    payloadHash: string,
    signingDate: Date,
  ): Promise<Request> {
    const scheme = (t.endpoint.properties?.authSchemes as unknown[] | undefined)?.[0];
    const other = await (config.signer as (scheme?: unknown) => Promise<Signer>)(scheme);
    if (typeof other?.sign !== 'function') throw new Fallback('the signer has another shape');
    // the header the signer adds with the body's hash: given, it is used as is (one hash less, same request)
    const withHash =
      Reflect.get(other, 'applyChecksum') !== false
        ? { ...headers, 'x-amz-content-sha256': payloadHash }
        : headers;
    return other.sign({ ...t.request, headers: withHash, body } as Request, {
      signingDate,
      signingRegion: t.signingRegion,
      signingService: t.signingService,
    });
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
    const { s } = plan;
    const offset = config.systemClockOffset ?? 0;
    const sentAtMs = Date.now();
    let request: Request;
    try {
      const made = signed(
        plan,
        headers,
        body,
        payloadHash,
        new Date(s.skewCorrection ? sentAtMs + offset : sentAtMs),
      );
      request = made instanceof Promise ? await made : made;
    } catch (err) {
      // a signer of the app's whose own credential provider failed: only this call
      throw err instanceof Fallback ? err : new Fallback('the signer failed', err, isShapeError(err));
    }
    if (typeof request?.headers?.authorization !== 'string')
      throw new Fallback('the signer gave no authorization');
    let response: WireResponse;
    let text: string;
    try {
      const deadline = options?.deadline;
      const handled = await config.requestHandler.handle(
        request,
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
      let out: ItemOutput | undefined;
      try {
        out = outputOf(text);
      } catch {
        // not JSON: the client's protocol makes its error of it, as under `send` (`$response` included)
      }
      if (out) return { out, metadata: metadataOf(response) };
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
    const agents = agentsOf(plan);
    const headers: Record<string, string> = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${op}`,
      'content-length': String(Buffer.byteLength(body)),
    };
    const amzAgent = agents['x-amz-user-agent'];
    if (amzAgent !== undefined) headers['x-amz-user-agent'] = amzAgent;
    headers['user-agent'] = agents['user-agent'];
    headers.host = t.host;
    headers['amz-sdk-invocation-id'] = randomUUID();
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
   * fault was the direct path's: a lasting one keeps it off until the configuration changes; a
   * transient one (a provider that failed once) sends only this call through the SDK, and pauses the
   * direct path only when it happens again and again. When the SDK fails as well, the fault was not
   * the direct path's (DynamoDB, the network, the credentials are down for both): its error is the answer.
   */
  async function fallBack(
    st: State,
    reason: Error,
    lasting: boolean,
    viaSdk: () => Promise<ItemOutput>,
  ): Promise<Sent> {
    const out = await viaSdk();
    const cause = reason instanceof Fallback ? reason.cause : reason;
    if (lasting) turnOff(st, reason.message, cause);
    else {
      st.transient++;
      const pauseMs = pauseAfter(st.transient);
      st.pausedUntilMs = pauseMs > 0 ? Date.now() + pauseMs : 0;
      debug(
        'a call went through the SDK: %s%s; direct path %s',
        reason.message,
        cause === undefined ? '' : ` (${errorText(cause)})`,
        pauseMs > 0 ? `paused for ${pauseMs} ms` : 'still on',
      );
    }
    const metadata = (out as { $metadata?: Sent['metadata'] }).$metadata ?? {};
    return { out, metadata };
  }

  /** Sent directly; through the SDK when a part of the direct path fails or DynamoDB cannot read the request. */
  async function sendOrFallBack(
    st: State,
    op: Operation,
    input: object,
    plan: Plan,
    options: CallOptions | undefined,
    viaSdk: () => Promise<ItemOutput>,
  ): Promise<Sent> {
    try {
      const sent = await send(op, input, plan, options);
      st.transient = 0;
      return sent;
    } catch (err) {
      if (err instanceof Fallback) return fallBack(st, err, err.lasting, viaSdk);
      const refused =
        err instanceof Error && refusedRequest.has(err.name) && !err.message.includes('Signature expired');
      if (refused) return fallBack(st, new Fallback('DynamoDB refused the request', err), true, viaSdk);
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
    if (!watch || (passedIn && !isSdkSend(client.send)) || !isPlain()) return viaSdk();
    if (!isUnchanged(config, state.seen)) state = stateOf(config);
    const st = state;
    if (st.off !== undefined || (st.pausedUntilMs > 0 && Date.now() < st.pausedUntilMs)) return viaSdk();
    let plan: Plan | null;
    try {
      plan = await ready(st, op, input);
    } catch (err) {
      // nothing was sent: the SDK's stack (and any instrumentation of its `send`) takes the call
      const lasting = err instanceof Fallback ? err.lasting : isShapeError(err);
      const reason = err instanceof Fallback ? err : new Fallback('a provider of the client failed', err);
      return (await fallBack(st, reason, lasting, viaSdk)).out;
    }
    if (!plan) {
      turnOff(st, configurationNeedsStack);
      return viaSdk();
    }
    const found = otelApi();
    const otel = found instanceof Promise ? await found : found;
    const run = () => sendOrFallBack(st, op, input, plan, options, viaSdk);
    return otel && isTracing(otel) ? traced(otel, op, input, plan.region, run) : (await run()).out;
  }

  return {
    getItem: (input, options) => call('GetItem', input, options, () => sdk.getItem(input, options)),
    putItem: (input, options) => call('PutItem', input, options, () => sdk.putItem(input, options)),
    updateItem: (input, options) => call('UpdateItem', input, options, () => sdk.updateItem(input, options)),
    deleteItem: (input, options) => call('DeleteItem', input, options, () => sdk.deleteItem(input, options)),
    // rare calls (per-user operations): the SDK's stack costs nothing that matters there
    query: sdk.query,
    batchGetItem: sdk.batchGetItem,
    // its calls go through `send` from now on; the last store over the client takes the watch off
    close: () => {
      if (watch) unwatchStack(stack, watch);
      watch = undefined;
    },
  };
}

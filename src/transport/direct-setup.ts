/**
 * What the direct path resolves from a client's configuration before it sends: its preparation
 * (retry strategy, user agent, signing), the endpoint of each table and operation, and the user agent
 * headers of each call, made as the SDK's middleware makes them.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as dynamodb from '@aws-sdk/client-dynamodb';
import type * as Endpoints from '@smithy/core/endpoints';
import type * as Retry from '@smithy/core/retry';
import { type ClientClass, hasSdkAuthSchemes, hasSdkSigner } from './client-state.js';
import { takesLightSignal } from './deadline.js';
import type { SigningIdentity } from './sigv4.js';
import {
  customPairsOf,
  escapeUserAgent,
  featuresText,
  type UserAgentHeaders,
  urlPartsOf,
  userAgentHeadersOf,
} from './wire.js';

/** A client's resolved configuration. @internal */
export type Config = DynamoDBClient['config'];
/** @internal */
export type Strategy = Extract<
  Awaited<ReturnType<Config['retryStrategy']>>,
  { acquireInitialRetryToken: unknown }
>;
/** @internal */
export type Signer = Awaited<ReturnType<Config['signer']>>;
/** @internal */
export type Request = Parameters<Signer['sign']>[0];
/** @internal */
export type Endpoint = Awaited<ReturnType<typeof Endpoints.getEndpointFromInstructions>>;
/** The credentials of a call, with what the SDK reports of them in its user agent. @internal */
export type Identity = SigningIdentity & { accountId?: string; $source?: Record<string, string> };

/** @internal */
export const commands = {
  GetItem: dynamodb.GetItemCommand,
  PutItem: dynamodb.PutItemCommand,
  UpdateItem: dynamodb.UpdateItemCommand,
  DeleteItem: dynamodb.DeleteItemCommand,
};
/** @internal */
export type Operation = keyof typeof commands;

/** What the store knows of a client: passed in, or made with an endpoint and a region that are not functions. @internal */
export interface DirectOptions {
  /** A client passed in: its calls go through `send` while that is not the SDK's own. */
  passedIn?: boolean;
  /** The client's `config.endpoint` when the endpoint it was given is fixed (not a function). */
  fixedEndpoint?: unknown;
  /** The client's `config.region` when the region it was given is fixed (not a function). */
  fixedRegion?: unknown;
}

/** What is resolved once per state of the client's configuration. @internal */
export interface Setup {
  endpoints: typeof Endpoints;
  retry: typeof Retry;
  strategy: Strategy;
  maxAttempts: number;
  /** The region, when it cannot change; `undefined`: asked on every call. */
  region: string | undefined;
  /** Whether the endpoint is asked on every call: given as a function, or not known to be fixed. */
  askEndpoint: boolean;
  /** The user agent's sections, escaped as the SDK escapes them. */
  agents: { defaults: string[]; appId: string | undefined; custom: string[] };
  /** The feature codes of every call (`m/` of the user agent), before those of its endpoint and identity. */
  endpointOverride: boolean;
  retryMode: string | undefined;
  accountIdMode: string | undefined;
  skewCorrection: boolean;
  /** Whether the request handler is one of the SDK's Node.js handlers, which take a light abort signal. */
  lightSignal: boolean;
  /** Whether the client's signer is the SDK's default `SignatureV4`: requests to `/` are then signed here, as it signs them. */
  ownSigning: boolean;
  /** For `ownSigning`: whether the signer sends the body's SHA-256 (`x-amz-content-sha256`), as it does by default. */
  payloadHash: boolean;
}

/** Where one table's calls go, and how they are signed. @internal */
export interface Target {
  /** A POST to `/` without a query string: what `RequestSigner` signs. */
  plain: boolean;
  endpoint: Endpoint;
  host: string;
  request: Omit<Request, 'headers' | 'body'>;
  signingRegion: string;
  signingService: string;
  /** The user agent headers made for the last credentials used with this target. */
  agents?: { identity: Identity; headers: UserAgentHeaders };
}

/** What one call is sent with. @internal */
export interface Plan {
  s: Setup;
  t: Target;
  identity: Identity;
  region: string;
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

/** Whether a client's logger is the SDK's default, which logs nothing (its stack logs every call to any other). */
function logsNothing(logger: unknown): boolean {
  return (logger as { constructor?: { name?: unknown } } | undefined)?.constructor?.name === 'NoOpLogger';
}

/** The SDK's feature codes of a retry mode and of an account id endpoint mode (`m/` of the user agent). */
const retryCodes: Record<string, string> = { adaptive: 'F', standard: 'E' };
const accountIdCodes: Record<string, string> = { disabled: 'Q', preferred: 'P', required: 'R' };

/** The preparation of the direct path for the configuration as it is now; `null` when it needs the SDK's stack. @internal */
export async function prepare(
  config: Config,
  Client: ClientClass,
  known: DirectOptions,
): Promise<Setup | null> {
  if (!logsNothing(config.logger) || !hasSdkAuthSchemes(config, Client)) return null;
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
  const ownSigning = hasSdkSigner(config, Client);
  if (!ownSigning && typeof config.signer !== 'function') return null;
  const accountIdMode =
    typeof config.accountIdEndpointMode === 'function' ? await config.accountIdEndpointMode() : undefined;
  const mode = (strategy as { mode?: unknown }).mode;
  return {
    endpoints,
    retry,
    strategy,
    maxAttempts: await config.maxAttempts(),
    region: known.fixedRegion === config.region ? await config.region() : undefined,
    askEndpoint: config.isCustomEndpoint === true && known.fixedEndpoint !== config.endpoint,
    agents: {
      defaults: (await config.defaultUserAgentProvider()).map(escapeUserAgent),
      appId: await config.userAgentAppId(),
      custom: customPairsOf(config.customUserAgent).map(escapeUserAgent),
    },
    endpointOverride: config.isCustomEndpoint === true,
    retryMode: typeof mode === 'string' ? retryCodes[mode] : undefined,
    accountIdMode:
      typeof config.accountIdEndpointMode === 'function'
        ? (accountIdCodes[String(accountIdMode)] ?? '')
        : undefined,
    skewCorrection: (await config.disableClockSkewCorrection()) !== true,
    payloadHash: Reflect.get(config, 'applyChecksum') !== false,
    lightSignal: takesLightSignal(config.requestHandler),
    ownSigning,
  };
}

/** The `m/` feature codes of a call, in the order the SDK's user agent middleware gives them. */
function featuresOf(s: Setup, t: Target, identity: Identity): string {
  const f: Record<string, string> = {};
  if (s.endpointOverride) f.ENDPOINT_OVERRIDE = 'N';
  if (s.retryMode) f.RETRY_MODE = s.retryMode;
  if (s.accountIdMode !== undefined) {
    if (/\d{12}\.ddb/.test(t.host)) f.ACCOUNT_ID_ENDPOINT = 'O';
    if (s.accountIdMode) f.ACCOUNT_ID_MODE = s.accountIdMode;
  }
  if (identity.$source) {
    if (identity.accountId) f.RESOLVED_ACCOUNT_ID = 'T';
    for (const [name, code] of Object.entries(identity.$source)) f[name] = code;
  }
  return featuresText(f);
}

/** The user agent headers of a call: made once per target and credentials. @internal */
export function agentsOf(plan: Plan): UserAgentHeaders {
  const { s, t, identity } = plan;
  if (t.agents?.identity !== identity) {
    const a = s.agents;
    const headers = userAgentHeadersOf(a.defaults, featuresOf(s, t, identity), a.appId, a.custom);
    t.agents = { identity, headers };
  }
  return t.agents.headers;
}

/** An endpoint as the SDK's endpoint rules are given it (`Endpoint` parameter): its URL as text. @internal */
export function endpointKeyOf(endpoint: unknown): string {
  if (endpoint && typeof endpoint === 'object') {
    const e = endpoint as { url?: URL; protocol?: string; hostname?: string; port?: number; path?: string };
    const headers = (endpoint as { headers?: unknown }).headers;
    const where =
      e.url instanceof URL
        ? e.url.href
        : `${e.protocol}//${e.hostname}${e.port ? `:${e.port}` : ''}${e.path ?? ''}`;
    return headers ? `${where} ${JSON.stringify(headers)}` : where;
  }
  return String(endpoint);
}

/** Where a call goes and how it is signed, for the region and endpoint it was keyed on. @internal */
export async function targetOf(
  config: Config,
  op: Operation,
  input: object,
  region: string,
  endpoint: unknown,
  s: Setup,
): Promise<Target | null> {
  // the region and endpoint this call was keyed on, even if their providers answer otherwise now;
  // a view, so that the SDK's function writes nothing on the client's configuration
  const pinned = (value: unknown) => ({ value: () => Promise.resolve(value), writable: true });
  const view = Object.create(config, {
    region: pinned(region),
    ...(endpoint !== undefined && { endpoint: pinned(endpoint) }),
  }) as Config;
  const resolved = await s.endpoints.getEndpointFromInstructions(input, commands[op], view);
  const scheme = (
    resolved.properties?.authSchemes as
      | { name?: string; signingRegion?: string; signingName?: string }[]
      | undefined
  )?.[0];
  if (scheme && scheme.name !== 'sigv4') return null;
  const { port, ...where } = urlPartsOf(resolved.url);
  return {
    plain: where.path === '/' && Object.keys(where.query).length === 0,
    endpoint: resolved,
    host: resolved.url.host,
    request: { method: 'POST', ...where, ...(port !== undefined && { port }) },
    signingRegion: scheme?.signingRegion ?? region,
    signingService: scheme?.signingName ?? 'dynamodb',
  };
}

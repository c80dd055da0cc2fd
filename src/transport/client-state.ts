/**
 * What the direct path knows of a client, and how it sees that the client changed: the parts of its
 * configuration a preparation is made from (compared by reference on every call, a few property
 * reads), whether its signer and auth schemes are the SDK's defaults, and one watch on its middleware
 * stack shared by every store over the client (never a wrapper per store, and taken off when the last
 * store closes).
 */
import type * as dynamodb from '@aws-sdk/client-dynamodb';

type Config = dynamodb.DynamoDBClient['config'];

/**
 * The configuration properties a preparation of the direct path reads: when the app gives one of
 * them another value (a logger, a signer, a retry strategy, another endpoint function), the next call
 * prepares again from the client as it then is. Their values when a preparation began. @internal
 */
export interface Snapshot {
  readonly [name: string]: unknown;
}

/** The values of those properties now. @internal */
export function snapshotOf(config: Config): Snapshot {
  const c = config as unknown as Record<string, unknown>;
  return {
    logger: c.logger,
    retryStrategy: c.retryStrategy,
    maxAttempts: c.maxAttempts,
    signer: c.signer,
    signerConstructor: c.signerConstructor,
    regionInfoProvider: c.regionInfoProvider,
    httpAuthSchemes: c.httpAuthSchemes,
    httpAuthSchemeProvider: c.httpAuthSchemeProvider,
    applyChecksum: c.applyChecksum,
    customUserAgent: c.customUserAgent,
    userAgentAppId: c.userAgentAppId,
    defaultUserAgentProvider: c.defaultUserAgentProvider,
    endpointDiscoveryEnabled: c.endpointDiscoveryEnabled,
    requestHandler: c.requestHandler,
    disableClockSkewCorrection: c.disableClockSkewCorrection,
    endpoint: c.endpoint,
    isCustomEndpoint: c.isCustomEndpoint,
    endpointProvider: c.endpointProvider,
    region: c.region,
    useFipsEndpoint: c.useFipsEndpoint,
    useDualstackEndpoint: c.useDualstackEndpoint,
    accountIdEndpointMode: c.accountIdEndpointMode,
    protocol: c.protocol,
  };
}

/**
 * Whether none of those properties has changed since `s` was taken: reference comparisons only,
 * written out (named reads cost about a third of reads by a computed name), about 0.2 µs. @internal
 */
export function isUnchanged(config: Config, s: Snapshot): boolean {
  const c = config as unknown as Record<string, unknown>;
  return (
    c.logger === s.logger &&
    c.retryStrategy === s.retryStrategy &&
    c.maxAttempts === s.maxAttempts &&
    c.signer === s.signer &&
    c.signerConstructor === s.signerConstructor &&
    c.regionInfoProvider === s.regionInfoProvider &&
    c.httpAuthSchemes === s.httpAuthSchemes &&
    c.httpAuthSchemeProvider === s.httpAuthSchemeProvider &&
    c.applyChecksum === s.applyChecksum &&
    c.customUserAgent === s.customUserAgent &&
    c.userAgentAppId === s.userAgentAppId &&
    c.defaultUserAgentProvider === s.defaultUserAgentProvider &&
    c.endpointDiscoveryEnabled === s.endpointDiscoveryEnabled &&
    c.requestHandler === s.requestHandler &&
    c.disableClockSkewCorrection === s.disableClockSkewCorrection &&
    c.endpoint === s.endpoint &&
    c.isCustomEndpoint === s.isCustomEndpoint &&
    c.endpointProvider === s.endpointProvider &&
    c.region === s.region &&
    c.useFipsEndpoint === s.useFipsEndpoint &&
    c.useDualstackEndpoint === s.useDualstackEndpoint &&
    c.accountIdEndpointMode === s.accountIdEndpointMode &&
    c.protocol === s.protocol
  );
}

/** What a new client of a client's own SDK has: the reference the client is compared with. */
interface SdkReference {
  /** Each middleware of a new client's stack: name, step or relation, and the function's source text. */
  stack: string;
  signerSource: string;
  authSchemeProvider: unknown;
  schemeSigner: unknown;
  identityProviderSource: string | undefined;
}

/** The reference of each client class met (one per copy of the SDK). */
const references = new WeakMap<object, SdkReference>();
const sourceOf = (fn: unknown): string =>
  typeof fn === 'function' ? Function.prototype.toString.call(fn) : '';

/**
 * The middleware of a stack, each with its options and its function's source text: an app's
 * middleware that overrides one of the SDK's under the same name and step shows as another source.
 */
function stackSignature(stack: unknown): string {
  const entries: string[] = [];
  const entry = (mw: unknown, o: Record<string, unknown>) =>
    entries.push(
      [o.name, o.step, o.priority, o.relation, o.toMiddleware, (o.aliases as string[] | undefined)?.join(',')]
        .map(String)
        .concat(sourceOf(mw))
        .join('|'),
    );
  (stack as { applyToStack(to: object): void }).applyToStack({ add: entry, addRelativeTo: entry });
  return entries.join('\n');
}

/** A client's class, as a constructor of a new client of the same SDK. @internal */
export type ClientClass = new (config: object) => dynamodb.DynamoDBClient;

function sdkReference(Client: ClientClass): SdkReference {
  let reference = references.get(Client);
  if (!reference) {
    const fresh = new Client({});
    const c = fresh.config;
    const [scheme] = c.httpAuthSchemes;
    reference = {
      stack: stackSignature(fresh.middlewareStack),
      signerSource: sourceOf(c.signer),
      authSchemeProvider: c.httpAuthSchemeProvider,
      schemeSigner: scheme?.signer.constructor,
      identityProviderSource: sourceOf(scheme?.identityProvider),
    };
    fresh.destroy();
    references.set(Client, reference);
  }
  return reference;
}

/**
 * Whether the client's signer is the SDK's default: a `SignatureV4` made for each call from the
 * client's own `credentials`, region and service, which the direct path can sign exactly as. A signer
 * given as `signer` or `signerConstructor` (other credentials, another service) is the app's. @internal
 */
export function hasSdkSigner(config: Config, Client: ClientClass): boolean {
  const c = config as unknown as Record<string, unknown>;
  return (
    c.signerConstructor === undefined &&
    c.regionInfoProvider === undefined &&
    sourceOf(c.signer) === sdkReference(Client).signerSource
  );
}

/**
 * Whether the client's auth schemes are the SDK's: SigV4 alone, chosen by the SDK's own provider,
 * with the SDK's signer and identity. Any other, and the client's `send` signs every call. @internal
 */
export function hasSdkAuthSchemes(config: Config, Client: ClientClass): boolean {
  const ref = sdkReference(Client);
  const schemes = config.httpAuthSchemes;
  const [scheme] = Array.isArray(schemes) ? schemes : [];
  return (
    config.httpAuthSchemeProvider === ref.authSchemeProvider &&
    schemes.length === 1 &&
    scheme?.schemeId === 'aws.auth#sigv4' &&
    scheme.signer?.constructor === ref.schemeSigner &&
    Object.keys(scheme.signer).length === 0 &&
    sourceOf(scheme.identityProvider) === ref.identityProviderSource
  );
}

/** The stack methods that change what a stack holds. */
const changing = ['add', 'addRelativeTo', 'use', 'remove', 'removeByTag'] as const;

/** A watch on one middleware stack, shared by the stores over its client. @internal */
export interface StackWatch {
  /** How many times middleware was added or removed since the watch began. */
  readonly changes: number;
}

interface Watch extends StackWatch {
  changes: number;
  users: number;
  /** The value of `changes` when `plain` was found; -1: not yet. */
  checkedAt: number;
  plain: boolean;
  restore(): boolean;
}

const watches = new WeakMap<object, Watch>();

/**
 * Watches a stack for middleware added or removed: its methods that change it are wrapped once,
 * whatever the number of stores over the client. @internal
 */
export function watchStack(stack: object): StackWatch {
  let w = watches.get(stack);
  if (!w) {
    const s = stack as Record<string, unknown>;
    const wrapped: [name: string, original: unknown, wrapper: unknown][] = [];
    const watch: Watch = {
      changes: 0,
      users: 0,
      checkedAt: -1,
      plain: false,
      // only where the method is still this watch's own wrapper: one the app put over it stays
      restore: () => {
        let all = true;
        for (const [name, original, wrapper] of wrapped) {
          if (s[name] === wrapper) s[name] = original;
          else all = false;
        }
        return all;
      },
    };
    for (const name of changing) {
      const original = s[name];
      if (typeof original !== 'function') continue;
      const wrapper = function (this: unknown, ...args: unknown[]): unknown {
        watch.changes++;
        return original.apply(this, args);
      };
      s[name] = wrapper;
      wrapped.push([name, original, wrapper]);
    }
    w = watch;
    watches.set(stack, w);
  }
  w.users++;
  return w;
}

/** Ends one store's watch; the last one takes the wrappers off the stack. @internal */
export function unwatchStack(stack: object, watch: StackWatch): void {
  const w = watch as Watch;
  if (w.users === 0 || --w.users > 0) return;
  if (w.restore()) watches.delete(stack);
}

/**
 * Whether a stack holds only the middleware every new client has, the SDK's own functions under the
 * SDK's names. A watched stack is looked at again only after it changed, once for all the stores over
 * its client. @internal
 */
export function isPlainStack(stack: object, Client: ClientClass): boolean {
  const w = watches.get(stack);
  if (!w) return isSdkStack(stack, Client);
  if (w.checkedAt !== w.changes) {
    w.plain = isSdkStack(stack, Client);
    w.checkedAt = w.changes;
  }
  return w.plain;
}

/** Whether a stack holds only the middleware every new client of this SDK has. */
function isSdkStack(stack: unknown, Client: ClientClass): boolean {
  return stackSignature(stack) === sdkReference(Client).stack;
}

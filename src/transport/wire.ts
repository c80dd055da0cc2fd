/**
 * What the direct path puts on the wire and reads back: the JSON of a call, its answer, DynamoDB's
 * error answers as the SDK's own exceptions, the user agent and the clock offset. Pure functions.
 */
import * as dynamodb from '@aws-sdk/client-dynamodb';
import type { ItemOutput } from './types.js';

/** An HTTP answer, as the client's request handler gives it. @internal */
export interface WireResponse {
  statusCode: number;
  headers: Record<string, string | undefined>;
  body?: unknown;
}

/** Where a request to an endpoint goes, as the SDK's protocols read its URL. @internal */
export interface UrlParts {
  protocol: string;
  hostname: string;
  port: number | undefined;
  /** The URL's path, ending in `/`. */
  path: string;
  query: Record<string, string>;
}

/** The parts of a request an endpoint's URL gives, as the SDK's protocols read them. @internal */
export function urlPartsOf(url: URL): UrlParts {
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  return {
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`,
    query,
  };
}

/** JSON of a call's input; binary values as base64 (`Buffer#toJSON` runs before a replacer sees it). */
function bodyWithBinary(input: object): string {
  return JSON.stringify(input, function (this: Record<string, unknown>, key: string, value: unknown) {
    const raw = this[key];
    return raw instanceof Uint8Array
      ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64')
      : value;
  });
}

/** Whether an attribute map holds a binary value at its top level (a compressed or sealed session). */
function binaryAtTop(values: unknown): boolean {
  if (typeof values !== 'object' || values === null) return false;
  for (const av of Object.values(values))
    if ((av as { B?: unknown } | undefined)?.B instanceof Uint8Array) return true;
  return false;
}

/**
 * JSON of a call's input. Without binary values (the common case) a plain `JSON.stringify`: the
 * replacer costs a function call per value. A compressed or sealed session is a binary value at the
 * top of the item, seen before any JSON is made; one deeper shows as `"B":{` or `"BS":[` (a map key
 * `B` can too: the replacer then runs for nothing, with the same result). @internal
 */
export function bodyOf(input: { Item?: unknown; ExpressionAttributeValues?: unknown }): string {
  if (binaryAtTop(input.Item) || binaryAtTop(input.ExpressionAttributeValues)) return bodyWithBinary(input);
  const json = JSON.stringify(input);
  return json.includes('"B":{') || json.includes('"BS":[') ? bodyWithBinary(input) : json;
}

/** Base64 to bytes: a plain `Uint8Array`, as the SDK returns them (a view of the decoded buffer, no copy). */
function bytesOf(base64: string): Uint8Array {
  const b = Buffer.from(base64, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Binary values arrive base64-encoded: back to bytes, as the SDK returns them (also inside M, L, BS). */
function decodeBinary(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  const av = value as Record<string, unknown>;
  if (typeof av.B === 'string') av.B = bytesOf(av.B);
  else if (Array.isArray(av.BS)) av.BS = av.BS.map((b: unknown) => (typeof b === 'string' ? bytesOf(b) : b));
  else if (Array.isArray(av.L)) for (const v of av.L) decodeBinary(v);
  else if (typeof av.M === 'object' && av.M !== null) {
    const map = av.M as Record<string, unknown>;
    // parsed JSON: own keys only
    for (const k in map) decodeBinary(map[k]);
  }
}

/** A binary value's key in JSON (`"B":` or `"BS":`); a map key `B` matches too, which only costs a walk. */
const binaryKey = /"BS?"\s*:/;

/** The output of an item call from its JSON answer. @throws SyntaxError on a body that is not JSON */
export function outputOf(text: string): ItemOutput {
  const out = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
  // most answers hold no binary value: one scan of the text costs less than a walk of every value
  if (!binaryKey.test(text)) return out as ItemOutput;
  for (const item of [out.Item, out.Attributes]) {
    if (typeof item === 'object' && item !== null)
      for (const k in item) decodeBinary((item as Record<string, unknown>)[k]);
  }
  return out as ItemOutput;
}

/** The body of an answer as text: a Node stream read with its events, anything else by `collect`. @internal */
export function textOf(body: unknown, collect: (body: unknown) => Promise<Uint8Array>): Promise<string> {
  const stream = body as NodeJS.ReadableStream | undefined;
  if (!stream || typeof stream.on !== 'function' || typeof stream.pipe !== 'function') {
    return body ? collect(body).then((bytes) => Buffer.from(bytes).toString('utf8')) : Promise.resolve('');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('error', reject);
    stream.once('end', () => {
      const [only] = chunks;
      resolve(chunks.length === 1 && only ? only.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** The SDK's request metadata of an answer (`deserializeMetadata`). @internal */
export function metadataOf(response: WireResponse): Record<string, unknown> {
  const h = response.headers;
  return {
    httpStatusCode: response.statusCode,
    requestId: h['x-amzn-requestid'] ?? h['x-amzn-request-id'] ?? h['x-amz-request-id'],
    extendedRequestId: h['x-amz-id-2'],
    cfId: h['x-amz-cf-id'],
  };
}

/** What the SDK adds to the message of an answer it cannot read. @internal */
export const deserializationHint =
  'Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.';

/**
 * A DynamoDB error answer as the SDK's JSON 1.0 protocol makes it, for when the client's own
 * protocol cannot be used: the modeled exception class when there is one, `Unknown` when the answer
 * names no error type (a 429 from a proxy), and a body that is not JSON as its `SyntaxError`.
 * @internal
 */
export function serviceErrorOf(response: WireResponse, text: string): Error {
  const $metadata = metadataOf(response);
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = text === '' ? {} : JSON.parse(text);
    if (parsed && typeof parsed === 'object') body = parsed as Record<string, unknown>;
  } catch (err) {
    const syntax = err instanceof Error ? err : new SyntaxError(String(err));
    syntax.message += `\n  ${deserializationHint}`;
    return Object.assign(syntax, { $metadata });
  }
  const header = response.headers['x-amzn-errortype'];
  const code = header ?? body.__type ?? body.code ?? body.Code;
  const type = typeof code === 'string' ? code.split(':')[0] : undefined;
  const name = type?.includes('#') ? (type.split('#')[1] ?? type) : type || 'Unknown';
  const message = String(body.message ?? body.Message ?? 'UnknownError');
  const $fault = response.statusCode >= 500 ? 'server' : 'client';
  const ctor: unknown = Reflect.get(dynamodb, name);
  const modeled =
    typeof ctor === 'function' && ctor.prototype instanceof dynamodb.DynamoDBServiceException
      ? (ctor as new (
          o: object,
        ) => dynamodb.DynamoDBServiceException)
      : undefined;
  // a failed condition returns the item it found (ReturnValuesOnConditionCheckFailure): bytes as the SDK gives them
  if (typeof body.Item === 'object' && body.Item !== null)
    for (const v of Object.values(body.Item)) decodeBinary(v);
  const err = modeled
    ? new modeled({ $metadata, message })
    : new dynamodb.DynamoDBServiceException({ name, $fault, $metadata, message });
  for (const [k, v] of Object.entries(body)) {
    const current = Reflect.get(err, k);
    if (v !== undefined && (current === undefined || current === '') && k !== 'Message')
      Reflect.set(err, k, v);
  }
  err.message = message;
  return err;
}

/** A user agent pair, as the SDK's user agent middleware escapes it (`escapeUserAgent`). @internal */
export function escapeUserAgent(pair: readonly unknown[]): string {
  const name = String(pair[0] ?? '')
    .split('/')
    .map((part) => part.replace(/[^!$%&'*+\-.^_`|~\w]/g, '-'))
    .join('/');
  const version = pair[1] === undefined ? undefined : String(pair[1]).replace(/[^!$%&'*+\-.^_`|~\w#]/g, '-');
  const at = name.indexOf('/');
  const prefix = name.substring(0, at);
  const rest = name.substring(at + 1);
  const parts = [prefix, prefix === 'api' ? rest.toLowerCase() : rest, version].filter(
    (p): p is string => !!p,
  );
  return parts.reduce((acc, p, i) => (i === 0 ? p : i === 1 ? `${acc}/${p}` : `${acc}#${p}`), '');
}

/** The pairs of a client's `customUserAgent`: a string set on the config after it was resolved is one pair. @internal */
export function customPairsOf(custom: unknown): readonly unknown[][] {
  if (typeof custom === 'string') return [[custom]];
  return Array.isArray(custom) ? custom.filter((p): p is unknown[] => Array.isArray(p)) : [];
}

/** The `user-agent` and `x-amz-user-agent` headers of a call. @internal */
export interface UserAgentHeaders {
  'user-agent': string;
  'x-amz-user-agent'?: string;
}

/**
 * The user agent headers, as the SDK's user agent middleware makes them from the client's default
 * pairs, the call's feature codes (`m/`), the app id and the custom user agent; this package's
 * `lib/dynamodb-sessions` is where a command's own sections go, before the custom ones. @internal
 */
export function userAgentHeadersOf(
  defaults: readonly string[],
  features: string,
  appId: string | undefined,
  custom: readonly string[],
): UserAgentHeaders {
  const sdk = [...defaults, `m/${features}`, ...(appId ? [escapeUserAgent(['app', appId])] : [])];
  const headers: UserAgentHeaders = {
    'user-agent': [...sdk, 'lib/dynamodb-sessions', ...custom].join(' '),
  };
  const normal = [...defaults.filter((s) => s.startsWith('aws-sdk-')), ...custom].join(' ');
  if (normal) headers['x-amz-user-agent'] = normal;
  return headers;
}

/** Feature codes as the SDK joins them in the `m/` section (at most 1024 bytes). @internal */
export function featuresText(features: Record<string, string>): string {
  let text = '';
  for (const code of Object.values(features)) {
    if (text.length + code.length + 1 > 1024) break;
    text = text ? `${text},${code}` : code;
  }
  return text;
}

/** The last `date` header read, and its time: the answers of one second share it. */
let lastDateHeader: string | undefined;
let lastDateMs = Number.NaN;

/** The server's clock minus ours, as the SDK's signer estimates it (kept unless the answer is fresh). @internal */
export function clockOffsetOf(response: WireResponse, current: number, sentAtMs: number): number {
  const date = response.headers.date;
  if (date === undefined || response.headers.age !== undefined) return current;
  if (date !== lastDateHeader) {
    lastDateHeader = date;
    lastDateMs = Date.parse(date);
  }
  const serverMs = lastDateMs;
  const now = Date.now();
  if (Number.isNaN(serverMs) || now - sentAtMs > 900_000) return current;
  return serverMs - now;
}

/**
 * OpenTelemetry spans for the calls the direct path sends itself, named and attributed as
 * `@opentelemetry/instrumentation-aws-sdk` names the calls it sees through `client.send`, so that a
 * trace looks the same whichever path a call took. `@opentelemetry/api` is an optional peer
 * dependency: it is looked for once, at the first call, and without it nothing is done. With it but
 * no tracer provider registered, its no-op tracer makes non-recording spans.
 */
import type * as Api from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import type { ItemOutput } from './types.js';

type OtelApi = typeof Api;

/** `undefined`: not looked for yet; `null`: the app does not have `@opentelemetry/api`. */
let api: OtelApi | null | undefined;
let looking: Promise<OtelApi | null> | undefined;
let tracer: Api.Tracer | undefined;
/** The tracer provider the API gives while none is registered. */
let noop: Api.TracerProvider | undefined;

/** `@opentelemetry/api` when the app has it, else `null`; a promise only until the first lookup ends. @internal */
export function otelApi(): OtelApi | null | Promise<OtelApi | null> {
  if (api !== undefined) return api;
  looking ??= import('@opentelemetry/api').then(
    (found) => {
      api = typeof found.trace?.getTracer === 'function' ? found : null;
      return api;
    },
    () => {
      api = null;
      return null;
    },
  );
  return looking;
}

/** Sets whether `@opentelemetry/api` is there, for the tests of the path without it. @internal */
export function setOtelApiForTests(value: OtelApi | null | undefined): void {
  api = value;
  looking = undefined;
  tracer = undefined;
  noop = undefined;
}

/**
 * Whether the app registered a tracer provider. Without one the API's tracer only makes
 * non-recording spans: the call is then sent as if the app had no OpenTelemetry, at no cost.
 * @internal
 */
export function isTracing(otel: OtelApi): boolean {
  const provider = otel.trace.getTracerProvider();
  if (!(provider instanceof otel.ProxyTracerProvider)) return true;
  noop ??= new otel.ProxyTracerProvider().getDelegate();
  return provider.getDelegate() !== noop;
}

/** The attributes the AWS SDK instrumentation gives an item call before it is sent. */
function startAttributes(op: string, input: ItemInput, region: string): Api.Attributes {
  const table = input.TableName;
  const attributes: Api.Attributes = {
    'rpc.system': 'aws-api',
    'rpc.method': op,
    'rpc.service': 'DynamoDB',
    'cloud.region': region,
    'db.system.name': 'dynamodb',
    'db.namespace': table,
    'db.operation.name': op,
  };
  if (table) attributes['aws.dynamodb.table_names'] = [table];
  if (op === 'GetItem' && input.ConsistentRead) attributes['aws.dynamodb.consistent_read'] = true;
  return attributes;
}

/** The input fields that name the span's attributes. @internal */
export interface ItemInput {
  TableName?: string | undefined;
  ConsistentRead?: boolean | undefined;
}

/** What a call gives back: its output and the SDK's metadata of the answer it came in. @internal */
export interface Sent {
  out: ItemOutput;
  metadata: { httpStatusCode?: unknown; requestId?: unknown; extendedRequestId?: unknown };
}

function ended(span: Span, sent: Sent): ItemOutput {
  const m = sent.metadata;
  if (typeof m.requestId === 'string') span.setAttribute('aws.request.id', m.requestId);
  if (typeof m.httpStatusCode === 'number') span.setAttribute('http.response.status_code', m.httpStatusCode);
  if (typeof m.extendedRequestId === 'string')
    span.setAttribute('aws.request.extended_id', m.extendedRequestId);
  const consumed = sent.out.ConsumedCapacity;
  if (consumed) span.setAttribute('aws.dynamodb.consumed_capacity', [JSON.stringify(consumed)]);
  span.end();
  return sent.out;
}

function failed(otel: OtelApi, span: Span, err: unknown): never {
  const status = (err as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  if (typeof status === 'number') span.setAttribute('http.response.status_code', status);
  const error = err instanceof Error ? err : new Error(String(err));
  span.setStatus({ code: otel.SpanStatusCode.ERROR, message: error.message });
  span.recordException(error);
  span.end();
  throw err;
}

/**
 * Runs `send` inside a client span `DynamoDB.<op>`, a child of the active span, as the current span
 * (so that an HTTP client span of the request is its child, as under the SDK's stack). @internal
 */
export function traced(
  otel: OtelApi,
  op: string,
  input: ItemInput,
  region: string,
  send: () => Promise<Sent>,
): Promise<ItemOutput> {
  tracer ??= otel.trace.getTracer('dynamodb-sessions');
  const parent = otel.context.active();
  const span = tracer.startSpan(
    `DynamoDB.${op}`,
    { kind: otel.SpanKind.CLIENT, attributes: startAttributes(op, input, region) },
    parent,
  );
  return otel.context.with(otel.trace.setSpan(parent, span), send).then(
    (sent) => ended(span, sent),
    (err: unknown) => failed(otel, span, err),
  );
}

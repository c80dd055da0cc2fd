/**
 * The JSON of the item calls inside the client's own middleware stack. The SDK reads and writes a
 * call's JSON through its schemas, value by value: for a session's map of attribute values that is
 * most of what `send` costs beyond the HTTP request. A command given these two middlewares (under
 * the names of the SDK's own serializer and deserializer, which a command's stack may override)
 * builds the request body with one `JSON.stringify` and reads a successful answer with one
 * `JSON.parse`. Everything else is the client's: endpoint, signing, retries, the request handler,
 * every middleware the app added and every instrumentation of `send`. Error answers, and an answer
 * that is not JSON, are read by the SDK's own deserializer, so errors are the SDK's exceptions.
 */
import { debuglog } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { errorText } from './log.js';
import {
  bodyOf,
  metadataOf,
  outputOf,
  textOf,
  type UrlParts,
  urlPartsOf,
  type WireResponse,
} from './wire.js';

const debug = debuglog('dynamodb-sessions');

type Next = (args: { input: object; request?: unknown }) => Promise<{ response: unknown; output?: unknown }>;
type Middleware = (next: Next, context: Record<string, unknown>) => Next;

interface Stack {
  add(middleware: Middleware, options: Record<string, unknown>): void;
}

/** An endpoint as the SDK's endpoint middleware leaves it in the context. */
interface EndpointV2 {
  url: URL;
  headers?: Record<string, string[]>;
}

/** The parts of a request that come from its endpoint. */
interface Target extends UrlParts {
  fragment: string | undefined;
  username: string | undefined;
  password: string | undefined;
  headers: Record<string, string>;
}

/** What a protocol of the client looks like to this module (the SDK's `AwsJson1_0Protocol`). */
interface Protocol {
  getShapeId(): string;
  getRequestType(): new (options: object) => unknown;
  serviceTarget?: unknown;
}

/** The SDK's names and steps of its serializer and deserializer, which a command's own override. */
const serializerOptions = {
  name: 'serializerMiddleware',
  step: 'serialize',
  tags: ['SERIALIZER'],
  override: true,
};
const deserializerOptions = {
  name: 'deserializerMiddleware',
  step: 'deserialize',
  tags: ['DESERIALIZER'],
  override: true,
};

/** Gives a command the lean serializer and deserializer. @internal */
export type LeanSerde = (command: { middlewareStack: unknown }, operation: string) => void;

/**
 * The client's own serializer and deserializer (the SDK's schema serde), read from its stack: the
 * lean ones leave to them what they do not do themselves, and override them only where they are
 * found with the step and priority an override needs.
 */
function sdkSerdeOf(client: DynamoDBClient): { serialize: Middleware; deserialize: Middleware } | undefined {
  const found = new Map<string, Middleware>();
  const collect = (mw: Middleware, options: Record<string, unknown>) => {
    if ((options.priority ?? 'normal') === 'normal') found.set(`${options.name} - ${options.step}`, mw);
  };
  (client.middlewareStack as unknown as { applyToStack(to: object): void }).applyToStack({
    add: collect,
    addRelativeTo: () => {},
  });
  const serialize = found.get(`${serializerOptions.name} - ${serializerOptions.step}`);
  const deserialize = found.get(`${deserializerOptions.name} - ${deserializerOptions.step}`);
  return serialize && deserialize ? { serialize, deserialize } : undefined;
}

/**
 * The lean serializer and deserializer for a client whose protocol is the AWS JSON 1.0 protocol
 * DynamoDB speaks; `undefined` for any other (a later SDK may change it), and for a client that
 * caches its resolved middleware per command class (`cacheMiddleware: true`), where the app's own
 * commands of the same class could run with the store's: their commands keep the SDK's own.
 * @internal
 */
export function leanSerdeOf(client: DynamoDBClient): LeanSerde | undefined {
  // a test double may be only a `send`
  const config = client.config as DynamoDBClient['config'] | undefined;
  const protocol = (config as { protocol?: Partial<Protocol> } | undefined)?.protocol;
  if (
    !config ||
    typeof (client.middlewareStack as { applyToStack?: unknown } | undefined)?.applyToStack !== 'function' ||
    (config as { cacheMiddleware?: unknown }).cacheMiddleware === true ||
    typeof protocol?.getShapeId !== 'function' ||
    protocol.getShapeId() !== 'aws.protocols#awsJson1_0' ||
    typeof protocol.getRequestType !== 'function' ||
    typeof protocol.serviceTarget !== 'string'
  )
    return undefined;
  const sdk = sdkSerdeOf(client);
  if (!sdk) return undefined;
  const HttpRequest = protocol.getRequestType();
  const target = protocol.serviceTarget;

  /** What the requests to one endpoint share, read from its URL once (its getters are not free). */
  const targets = new WeakMap<EndpointV2, Target>();
  const targetOf = (endpoint: EndpointV2): Target => {
    let t = targets.get(endpoint);
    if (!t) {
      const url = endpoint.url;
      const headers: Record<string, string> = {};
      for (const [name, values] of Object.entries(endpoint.headers ?? {})) headers[name] = values.join(', ');
      t = {
        ...urlPartsOf(url),
        fragment: url.hash || undefined,
        username: url.username || undefined,
        password: url.password || undefined,
        headers,
      };
      targets.set(endpoint, t);
    }
    return t;
  };

  /** The HTTP request of a call, as the protocol's serializer makes it, with the body in one step. */
  const requestOf = (operation: string, endpoint: EndpointV2, input: object): unknown => {
    const t = targetOf(endpoint);
    return new HttpRequest({
      ...t,
      method: 'POST',
      // copies: the request's middleware adds to both
      query: { ...t.query },
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `${target}.${operation}`,
        ...t.headers,
      },
      body: bodyOf(input),
    });
  };

  let on = true;
  const serializerOf =
    (operation: string): Middleware =>
    (next, context) =>
    async (args) => {
      const endpoint = context.endpointV2 as EndpointV2 | undefined;
      let request: unknown;
      try {
        if (endpoint?.url instanceof URL) request = requestOf(operation, endpoint, args.input);
      } catch (err) {
        // an optimisation, never a reason to fail: the SDK's serializer takes this call and the next
        debug('lean JSON off, item calls use the SDK serializer from now on: %s', errorText(err));
        on = false;
      }
      return request === undefined ? sdk.serialize(next, context)(args) : next({ ...args, request });
    };

  const deserialize: Middleware = (next, context) => async (args) => {
    const { response } = await next(args);
    const answer = response as WireResponse;
    const viaSdk = () => sdk.deserialize(() => Promise.resolve({ response }), context)(args);
    if (typeof answer?.statusCode !== 'number' || answer.statusCode < 200 || answer.statusCode >= 300)
      return viaSdk();
    const text = await textOf(answer.body, (b) => config.streamCollector(b as never));
    try {
      return { response, output: Object.assign(outputOf(text), { $metadata: metadataOf(answer) }) };
    } catch {
      // not JSON: the SDK's deserializer makes its error of it, from the same bytes
      answer.body = Buffer.from(text);
      return viaSdk();
    }
  };

  const serializers = new Map<string, Middleware>();
  return (command, operation) => {
    if (!on) return;
    let serialize = serializers.get(operation);
    if (!serialize) {
      serialize = serializerOf(operation);
      serializers.set(operation, serialize);
    }
    const stack = command.middlewareStack as Stack;
    stack.add(serialize, serializerOptions);
    stack.add(deserialize, deserializerOptions);
  };
}

/**
 * AWS Lambda events as API Gateway (HTTP API payload 2.0, REST API payload 1.0) and Lambda Function
 * URLs send them, for invoking a `handle(app)` of `hono/aws-lambda` directly, and the cookies of its
 * result, to carry into the next event as a browser would.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyResult, handle, LambdaContext, LambdaEvent } from 'hono/aws-lambda';

type LambdaHandler = ReturnType<typeof handle>;
type V2Event = Extract<LambdaEvent, { rawPath: string }>;
type V1Event = Extract<LambdaEvent, { resource: string }>;

const userAgent = 'Mozilla/5.0 (X11; Linux x86_64) hono-test';
const sourceIp = '127.0.0.1';

function context(): LambdaContext {
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'sessions',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:sessions',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/sessions',
    logStreamName: '2025/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

function queryOf(rawQueryString: string): Record<string, string> | undefined {
  const params = new URLSearchParams(rawQueryString);
  return rawQueryString ? Object.fromEntries(params) : undefined;
}

/** A payload 2.0 event: API Gateway HTTP API (`domainPrefix` its id) or a Function URL. */
function v2Event(
  host: string,
  routeKey: string,
  path: string,
  rawQueryString: string,
  cookies: string[],
  authorizer: V2Event['requestContext']['authorizer'],
): V2Event {
  const now = new Date();
  const query = queryOf(rawQueryString);
  const domainPrefix = host.split('.')[0] ?? host;
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString,
    ...(cookies.length > 0 && { cookies }),
    headers: {
      accept: 'application/json',
      host,
      'user-agent': userAgent,
      'x-amzn-trace-id': `Root=1-${now.getTime().toString(16)}-${randomUUID().replaceAll('-', '').slice(0, 24)}`,
      'x-forwarded-for': sourceIp,
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
    },
    ...(query && { queryStringParameters: query }),
    requestContext: {
      accountId: routeKey === '$default' ? 'anonymous' : '123456789012',
      apiId: domainPrefix,
      authentication: null,
      authorizer,
      domainName: host,
      domainPrefix,
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp, userAgent },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: null,
    isBase64Encoded: false,
  };
}

/** Invokes `handler` with an API Gateway HTTP API event (payload 2.0, a JWT authorizer, route `GET /{proxy+}`). */
export function invokeHttpApi(
  handler: LambdaHandler,
  path: string,
  rawQueryString: string,
  cookies: string[],
) {
  const authorizer = { jwt: { claims: { sub: 'user-1' }, scopes: null } };
  const event = v2Event(
    'r3pmxmplak.execute-api.us-east-1.amazonaws.com',
    'GET /{proxy+}',
    path,
    rawQueryString,
    cookies,
    authorizer,
  );
  return handler({ ...event, pathParameters: { proxy: path.slice(1) } }, context());
}

/** Invokes `handler` with a Lambda Function URL event (payload 2.0, auth type AWS_IAM). */
export function invokeFunctionUrl(
  handler: LambdaHandler,
  path: string,
  rawQueryString: string,
  cookies: string[],
) {
  const authorizer = {
    iam: {
      accessKey: 'AKIAIOSFODNN7EXAMPLE',
      accountId: '123456789012',
      callerId: 'AIDACKCEVSQ6C2EXAMPLE',
      cognitoIdentity: null,
      principalOrgId: null,
      userArn: 'arn:aws:iam::123456789012:user/tester',
      userId: 'AIDACKCEVSQ6C2EXAMPLE',
    },
  };
  const host = 'abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws';
  return handler(v2Event(host, '$default', path, rawQueryString, cookies, authorizer), context());
}

/** Invokes `handler` with an API Gateway REST API event (payload 1.0, proxy resource), cookies in its headers. */
export function invokeRestApi(
  handler: LambdaHandler,
  path: string,
  query: Record<string, string>,
  cookies: string[],
) {
  const now = new Date();
  const host = '1234567890.execute-api.us-east-1.amazonaws.com';
  const single: Record<string, string> = { accept: 'application/json', host, 'user-agent': userAgent };
  if (cookies.length > 0) single.cookie = cookies.join('; ');
  const hasQuery = Object.keys(query).length > 0;
  const event: V1Event = {
    version: '1.0',
    resource: '/{proxy+}',
    path,
    httpMethod: 'GET',
    headers: single,
    multiValueHeaders: Object.fromEntries(Object.entries(single).map(([k, v]) => [k, [v]])),
    ...(hasQuery && {
      queryStringParameters: query,
      multiValueQueryStringParameters: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])),
    }),
    pathParameters: { proxy: path.slice(1) },
    requestContext: {
      accountId: '123456789012',
      apiId: '1234567890',
      authorizer: {},
      domainName: host,
      domainPrefix: '1234567890',
      extendedRequestId: randomUUID(),
      httpMethod: 'GET',
      identity: { sourceIp, userAgent },
      path: `/prod${path}`,
      protocol: 'HTTP/1.1',
      requestId: randomUUID(),
      requestTime: now.toUTCString(),
      requestTimeEpoch: now.getTime(),
      resourcePath: '/{proxy+}',
      stage: 'prod',
    },
    body: null,
    isBase64Encoded: false,
  };
  return handler(event, context());
}

/**
 * The cookies a Lambda result sets (`cookies` for payload 2.0, `multiValueHeaders['set-cookie']` for
 * 1.0), as the `name=value` pairs a browser sends back.
 */
export function lambdaCookies(result: APIGatewayProxyResult): string[] {
  const lines = result.cookies ?? result.multiValueHeaders?.['set-cookie'] ?? [];
  return lines.map((line) => line.split(';')[0] ?? '').filter((pair) => pair.includes('='));
}

/** The value of the cookie `name` among `name=value` pairs; `''` when absent. */
export function cookieValue(pairs: string[], name: string): string {
  return pairs.find((p) => p.startsWith(`${name}=`))?.slice(name.length + 1) ?? '';
}

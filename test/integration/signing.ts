/**
 * For the direct path's tests: requests read whole, SigV4 computed here independently of the SDK, a
 * request passed on to DynamoDB Local as it came, and a count of the calls that went through `send`.
 */
import { createHash, createHmac } from 'node:crypto';
import {
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';

/** The request's body, as text. */
export function bodyOf(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The SigV4 signature of a POST to `/` (no query string), computed from the request as received. */
export function expectedSignature(headers: IncomingHttpHeaders, body: string, secret: string): string {
  const [, scope = '', signedList = ''] =
    /Credential=[^/]+\/([^,]+), SignedHeaders=([^,]+),/.exec(String(headers.authorization)) ?? [];
  const canonical = [
    'POST',
    '/',
    '',
    ...signedList.split(';').map((h) => `${h}:${String(headers[h]).trim()}`),
    '',
    signedList,
    createHash('sha256').update(body).digest('hex'),
  ].join('\n');
  const toSign = [
    'AWS4-HMAC-SHA256',
    String(headers['x-amz-date']),
    scope,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  const [date = '', region = '', service = ''] = scope.split('/');
  const hmac = (key: Buffer | string, text: string) => createHmac('sha256', key).update(text).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  return hmac(key, toSign).toString('hex');
}

/** The signature the request carries. */
export function signatureOf(headers: IncomingHttpHeaders): string | undefined {
  return /Signature=(\w+)$/.exec(String(headers.authorization))?.[1];
}

/** Sends the request on to `target` (DynamoDB Local), its headers and body unchanged, and its answer back. */
export function forward(target: URL, req: IncomingMessage, body: string, res: ServerResponse): void {
  const out = httpRequest(
    { host: target.hostname, port: target.port, method: 'POST', path: '/', headers: req.headers },
    (up) => {
      res.writeHead(up.statusCode ?? 500, up.headers);
      up.pipe(res);
    },
  );
  out.end(body);
}

/**
 * Counts the calls that went through a client's `send`: each resolves its middleware stack (`send`
 * itself stays the SDK's, which a wrapper would not be). Any version of the SDK's client.
 */
export function countStackRuns(client: { middlewareStack: object }): { count: number } {
  const runs = { count: 0 };
  const stack = client.middlewareStack as { concat: (...args: unknown[]) => unknown };
  const concat = stack.concat.bind(stack);
  stack.concat = (...args: unknown[]) => {
    runs.count++;
    return concat(...args);
  };
  return runs;
}

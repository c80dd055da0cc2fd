/**
 * Runs a store with `NODE_DEBUG=dynamodb-sessions` (set by the test that spawns it) through calls
 * the direct path hands to `send`: a request DynamoDB refuses as badly signed (its message quoting
 * the canonical request, session token included, as DynamoDB's does), and a credential provider that
 * fails once. Prints on stdout, as JSON, every Authorization header the server saw.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SessionEngine } from '../../../src/index.ts';

const [token = '', secret = ''] = process.argv.slice(2);
const authorizations: string[] = [];
let refuse = 1;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    authorizations.push(String(req.headers.authorization));
    res.setHeader('content-type', 'application/x-amz-json-1.0');
    if (refuse-- > 0) {
      const canonical = `POST\n/\n\nhost:${req.headers.host}\nx-amz-security-token:${req.headers['x-amz-security-token']}\n`;
      res.writeHead(400);
      res.end(
        JSON.stringify({
          __type: 'com.amazon.coral.service#InvalidSignatureException',
          message: `The request signature we calculated does not match the signature you provided.\n\nThe Canonical String for this request should have been\n'${canonical}'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n${req.headers.authorization}'\n`,
        }),
      );
      return;
    }
    res.writeHead(200);
    res.end('{}');
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const identity = { accessKeyId: 'AKIDDEBUGLOG', secretAccessKey: secret, sessionToken: token };

// refused once: handed to send, which gets through
const engine = new SessionEngine({
  tableName: 'sessions',
  clientConfig: { region: 'eu-west-1', endpoint, credentials: identity },
});
await engine.get('session-one');
engine.close();

// a credential provider that fails once, with the token in its message
let first = true;
const flaky = new SessionEngine({
  tableName: 'sessions',
  clientConfig: {
    region: 'eu-west-1',
    endpoint,
    credentials: async () => {
      if (first) {
        first = false;
        throw new Error(`x-amz-security-token: ${token} was refused`);
      }
      return { ...identity, expiration: new Date(Date.now() + 60_000) };
    },
  },
});
await flaky.get('session-two');
flaky.close();
server.close();
process.stdout.write(JSON.stringify(authorizations));

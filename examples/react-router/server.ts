/**
 * React Router (framework mode) + dynamodb-sessions, rendered on the server, with no client JavaScript:
 * plain HTML forms post to route actions, which redirect with the session cookie.
 * Run: npm run example:react-router   (DynamoDB Local is started for you; see examples/shared/dynamodb.ts)
 *
 * A real app builds its server with `@react-router/dev` (Vite: `react-router build`) and serves it with
 * `@react-router/serve` or its own server; its `app/sessions.server.ts` uses the storage just as this
 * one does. Here `build.ts` is that build, written by hand, so the example runs without a bundler.
 */
import { createServer } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { createRequestHandler } from 'react-router';
import { stopOnSignal } from '../shared/dynamodb.ts';
import { ddb, storage } from './app/sessions.server.ts';
import { build } from './build.ts';

const port = Number(process.env.PORT ?? 3000);
const handler = createRequestHandler(build, 'production');
// node:http in, fetch's Request and Response for React Router
const server = createServer(getRequestListener((request) => handler(request)));

server.listen(port, '127.0.0.1', () => {
  console.log(`React Router example on http://127.0.0.1:${port}/ with sessions in ${ddb.where}`);
  console.log('Open it, log in, reload (the visit count survives), then log out. Ctrl-C stops it.');
});
stopOnSignal(async () => {
  server.close();
  server.closeAllConnections();
  storage.close();
  await ddb.stop();
});

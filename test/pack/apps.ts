/** The outside apps used by pack.check.ts: each only imports the installed package by its name. */
export const expressApp = `
const express = require('express');
const session = require('express-session');
const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
const { DynamoDBStore } = require('dynamodb-sessions/express');
const { createTable, InvalidOptionError } = require('dynamodb-sessions');
// the subpaths share one copy of the error classes: instanceof works across them
try {
  new DynamoDBStore({ touchAfter: -1 });
  process.exit(3);
} catch (err) {
  if (!(err instanceof InvalidOptionError)) process.exit(4);
}
// a client of the app's own, passed to the store; the endpoint comes from AWS_ENDPOINT_URL_DYNAMODB
const client = new DynamoDBClient({});
createTable(client, { tableName: 'outside_express' }).then(() => {
  const store = new DynamoDBStore({ client, tableName: 'outside_express' });
  const app = express();
  app.use(session({ store, secret: 'outside-secret', resave: false, saveUninitialized: false }));
  app.get('/count', (req, res) => { req.session.n = (req.session.n || 0) + 1; res.json({ n: req.session.n }); });
  const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('LISTENING'));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
});
`;

export const fastifyApp = `
import Fastify from 'fastify';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamodbSessions } from 'dynamodb-sessions/fastify';
import { createTable } from 'dynamodb-sessions';
const setup = new DynamoDBClient({});
await createTable(setup, { tableName: 'outside_fastify' });
setup.destroy();
// the store makes its own client (the endpoint comes from AWS_ENDPOINT_URL_DYNAMODB)
const app = Fastify();
await app.register(dynamodbSessions, { clientConfig: { region: 'us-east-1' }, tableName: 'outside_fastify', secret: 'a-secret-with-at-least-32-characters!!' });
app.get('/count', async (req) => { const n = (req.session.get('n') ?? 0) + 1; req.session.set('n', n); return { n }; });
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
console.log('LISTENING');
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`;

export const koaApp = `
import Koa from 'koa';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamodbSession } from 'dynamodb-sessions/koa';
import { createTable } from 'dynamodb-sessions';
const setup = new DynamoDBClient({});
await createTable(setup, { tableName: 'outside_koa' });
setup.destroy();
// the store makes its own client (the endpoint comes from AWS_ENDPOINT_URL_DYNAMODB)
const app = new Koa();
app.keys = ['outside-key'];
app.use(dynamodbSession(app, { tableName: 'outside_koa', session: { rolling: true } }));
app.use((ctx) => { ctx.session.n = (ctx.session.n ?? 0) + 1; ctx.body = { n: ctx.session.n }; });
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('LISTENING'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

export const honoApp = `
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { sessionMiddleware } from 'hono-sessions';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStore } from 'dynamodb-sessions/hono';
import { createTable } from 'dynamodb-sessions';
const setup = new DynamoDBClient({});
await createTable(setup, { tableName: 'outside_hono' });
setup.destroy();
// the store makes its own client (the endpoint comes from AWS_ENDPOINT_URL_DYNAMODB)
const app = new Hono();
app.use('*', sessionMiddleware({ store: new DynamoDBStore({ tableName: 'outside_hono' }), encryptionKey: 'an-encryption-key-of-32-characters!!' }));
app.get('/count', (c) => { const session = c.get('session'); const n = (session.get('n') ?? 0) + 1; session.set('n', n); return c.json({ n }); });
const server = serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' }, () => console.log('LISTENING'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/** The Hono store from CommonJS, with a client of the app's own. */
export const honoCommonJsApp = `
const { serve } = require('@hono/node-server');
const { Hono } = require('hono');
const { sessionMiddleware } = require('hono-sessions');
const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
const { DynamoDBStore } = require('dynamodb-sessions/hono');
const { createTable, InvalidOptionError } = require('dynamodb-sessions');
// the subpaths share one copy of the error classes: instanceof works across them
try {
  new DynamoDBStore({ touchAfter: -1 });
  process.exit(3);
} catch (err) {
  if (!(err instanceof InvalidOptionError)) process.exit(4);
}
const client = new DynamoDBClient({});
createTable(client, { tableName: 'outside_hono_cjs' }).then(() => {
  const app = new Hono();
  app.use('*', sessionMiddleware({ store: new DynamoDBStore({ client, tableName: 'outside_hono_cjs' }) }));
  app.get('/count', (c) => { const session = c.get('session'); const n = (session.get('n') ?? 0) + 1; session.set('n', n); return c.json({ n }); });
  const server = serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' }, () => console.log('LISTENING'));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
});
`;

/**
 * React Router's own request handler with a server build of one resource route, as a framework-mode
 * build is (a real one comes from \`react-router build\`), served over node:http.
 */
export const reactRouterApp = `
import { createServer } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { createRequestHandler } from 'react-router';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoDBSessionStorage } from 'dynamodb-sessions/react-router';
import { createTable } from 'dynamodb-sessions';
const setup = new DynamoDBClient({});
await createTable(setup, { tableName: 'outside_react_router' });
setup.destroy();
// the storage makes its own client (the endpoint comes from AWS_ENDPOINT_URL_DYNAMODB)
const { getSession, commitSession } = createDynamoDBSessionStorage({
  cookie: { name: '__session', secrets: ['outside-secret'], httpOnly: true, sameSite: 'lax' },
  tableName: 'outside_react_router',
});
async function loader({ request }) {
  const session = await getSession(request.headers.get('Cookie'));
  const n = (session.get('n') ?? 0) + 1;
  session.set('n', n);
  return Response.json({ n }, { headers: { 'Set-Cookie': await commitSession(session) } });
}
const build = {
  entry: { module: { default: () => new Response('no documents here', { status: 404 }) } },
  routes: {
    root: { id: 'root', path: '', module: {} },
    count: { id: 'count', parentId: 'root', path: 'count', module: { loader } },
  },
  assets: { entry: { module: '/entry.js', imports: [] }, routes: {}, url: '/manifest.js', version: '1' },
  publicPath: '/',
  assetsBuildDirectory: 'build/client',
  future: {},
  ssr: true,
  isSpaMode: false,
  prerender: [],
  routeDiscovery: { mode: 'initial', manifestPath: '/__manifest' },
};
const handler = createRequestHandler(build, 'production');
const server = createServer(getRequestListener((request) => handler(request)));
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('LISTENING'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

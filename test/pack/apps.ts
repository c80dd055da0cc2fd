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

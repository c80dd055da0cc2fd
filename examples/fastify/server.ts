/**
 * Fastify 5 + @fastify/session + dynamodb-sessions, through the `dynamodbSessions` plugin.
 * Run: npm run example:fastify   (DynamoDB Local is started for you; see examples/shared/dynamodb.ts)
 */
import Fastify from 'fastify';
import { dynamodbSessions } from '../../adapters/fastify.ts';
import { exampleDynamoDB, stopOnSignal } from '../shared/dynamodb.ts';

declare module 'fastify' {
  interface Session {
    account?: { name: string; loggedInAt: string };
    visits?: number;
  }
}

const port = Number(process.env.PORT ?? 3000);
const ddb = await exampleDynamoDB();

const app = Fastify();
// HTML forms post urlencoded bodies; this avoids a dependency on @fastify/formbody
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
  done(null, Object.fromEntries(new URLSearchParams(String(body))));
});
await app.register(dynamodbSessions, {
  secret: process.env.SESSION_SECRET ?? 'change-me-to-a-long-random-secret',
  clientConfig: ddb.clientConfig,
  tableName: ddb.tableName,
  userId: (s) => s.account?.name,
  // nothing is stored for visitors who never log in
  saveUninitialized: false,
  // secure: 'auto' (the plugin's default) sends the cookie over this plain-HTTP demo too
  cookie: { maxAge: 24 * 3600 * 1000, httpOnly: true, sameSite: 'lax' },
});

const html = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>dynamodb-sessions: Fastify</title></head><body>${body}</body></html>`;

app.get('/', async (request, reply) => {
  reply.type('text/html; charset=utf-8');
  const user = request.session.account;
  if (!user) {
    return page(`<h1>Not logged in</h1>
<form method="post" action="/login"><label>Name <input name="name" required></label> <button type="submit">Log in</button></form>`);
  }
  request.session.visits = (request.session.visits ?? 0) + 1;
  const expires = request.session.cookie.expires?.toISOString() ?? 'end of the browser session';
  return page(`<h1 id="welcome">Hello, ${html(user.name)}</h1>
<p>Logged in at <span id="logged-in-at">${html(user.loggedInAt)}</span>; <span id="visits">${request.session.visits}</span> visits in this session.</p>
<p>Session id: <code>${html(request.session.sessionId.slice(0, 6))}…</code>, stored in DynamoDB table <code>${html(ddb.tableName)}</code>; the cookie expires ${html(expires)}.</p>
<p><a href="/session.json">The session as JSON</a></p>
<form method="post" action="/logout-others"><button type="submit">Log out other devices</button></form>
<form method="post" action="/logout"><button type="submit" id="logout">Log out</button></form>`);
});

app.get('/session.json', async (request) => ({
  id: request.session.sessionId,
  account: request.session.account ?? null,
  visits: request.session.visits ?? 0,
  cookie: request.session.cookie,
}));

app.post<{ Body: { name?: string } }>('/login', async (request, reply) => {
  const name = String(request.body?.name ?? '').trim() || 'guest';
  // a new session id at login, against session fixation
  await request.session.regenerate();
  request.session.account = { name, loggedInAt: new Date().toISOString() };
  // the session is written before this reply leaves (onSend), so the redirect finds it
  return reply.redirect('/', 303);
});

app.post('/logout-others', async (request, reply) => {
  const user = request.session.account;
  if (user) await app.dynamodbStore.destroyUserSessions(user.name, { except: request.session.sessionId });
  return reply.redirect('/', 303);
});

app.post('/logout', async (request, reply) => {
  await request.session.destroy();
  return reply.redirect('/', 303);
});

await app.listen({ host: '127.0.0.1', port });
console.log(`Fastify example on http://127.0.0.1:${port}/ with sessions in ${ddb.where}`);
console.log('Open it, log in, reload (the visit count survives), then log out. Ctrl-C stops it.');
console.log(
  `Or: curl -c jar -b jar -d name=ada http://127.0.0.1:${port}/login && curl -b jar http://127.0.0.1:${port}/session.json`,
);
stopOnSignal(async () => {
  await app.close();
  await ddb.stop();
});

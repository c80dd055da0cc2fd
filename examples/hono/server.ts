/**
 * Hono + hono-sessions + dynamodb-sessions, served by @hono/node-server.
 * Run: npm run example:hono   (DynamoDB Local is started for you; see examples/shared/dynamodb.ts)
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { type Session, sessionMiddleware } from 'hono-sessions';
import { DynamoDBStore } from '../../adapters/hono.ts';
import { exampleDynamoDB, stopOnSignal } from '../shared/dynamodb.ts';

interface Account {
  name: string;
  loggedInAt: string;
}
/** What the routes keep in the session (hono-sessions keeps each key as `{ value, flash }`). */
interface AppSession {
  account: Account;
  visits: number;
}

const port = Number(process.env.PORT ?? 3000);
const ddb = await exampleDynamoDB();
const store = new DynamoDBStore({
  clientConfig: ddb.clientConfig,
  tableName: ddb.tableName,
  userId: (data) => {
    const account = data.account?.value as Account | undefined;
    return account?.name;
  },
});

const app = new Hono<{ Variables: { session: Session<AppSession>; session_key_rotation: boolean } }>();
app.use(
  '*',
  sessionMiddleware({
    store,
    // no encryptionKey: the cookie holds a random id that opens nothing unless stored, and the login
    // below gives the session a new id (sealing the id would cost more CPU than the rest of a request)
    // every request moves the expiry a day on; DynamoDB sees at most one expiry write per hour
    expireAfterSeconds: 24 * 3600,
    cookieOptions: { httpOnly: true, sameSite: 'Lax', path: '/', maxAge: 24 * 3600 },
  }),
);
// Hono's own handler answers a store error with its status (503 when DynamoDB fails) but logs nothing
app.onError((err, c) => {
  console.error(err);
  return 'getResponse' in err && typeof err.getResponse === 'function'
    ? (err.getResponse as () => Response)()
    : c.text('Internal Server Error', 500);
});

const html = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>dynamodb-sessions: Hono</title></head><body>${body}</body></html>`;

app.get('/', async (c) => {
  const session = c.get('session');
  const user = session.get('account');
  if (!user) {
    // hono-sessions gives every visitor a session and its cookie; the store writes nothing until it holds a key
    return c.html(
      page(`<h1>Not logged in</h1>
<form method="post" action="/login"><label>Name <input name="name" required></label> <button type="submit">Log in</button></form>`),
    );
  }
  const visits = (session.get('visits') ?? 0) + 1;
  session.set('visits', visits);
  const id = session.getCache()._id ?? '';
  const devices = await store.listUserSessions(user.name);
  return c.html(
    page(`<h1 id="welcome">Hello, ${html(user.name)}</h1>
<p>Logged in at <span id="logged-in-at">${html(user.loggedInAt)}</span>; <span id="visits">${visits}</span> visits in this session.</p>
<p>Session id: <code>${html(id.slice(0, 6))}…</code>, stored in DynamoDB table <code>${html(ddb.tableName)}</code>.</p>
<p>${devices.length} live session(s) for this user (log in from another browser to see more).</p>
<form method="post" action="/logout-others"><button type="submit">Log out other devices</button></form>
<form method="post" action="/logout"><button type="submit" id="logout">Log out</button></form>`),
  );
});

app.post('/login', async (c) => {
  const form = await c.req.parseBody();
  const name = String(form.name ?? '').trim() || 'guest';
  const session = c.get('session');
  // a new session id at login, against session fixation; a session that holds no key was never
  // stored and its id is already new (rotating it would store a tombstone for nothing)
  if (Object.keys(session.getCache()._data).length > 0) c.set('session_key_rotation', true);
  session.set('account', { name, loggedInAt: new Date().toISOString() });
  session.set('visits', 0);
  // hono-sessions saves after this route and before the response leaves, so the redirect finds it
  return c.redirect('/', 303);
});

app.post('/logout-others', async (c) => {
  const session = c.get('session');
  const user = session.get('account');
  const id = session.getCache()._id;
  if (user && id) await store.destroyUserSessions(user.name, { except: id });
  return c.redirect('/', 303);
});

app.post('/logout', (c) => {
  // the store leaves a tombstone: a request still in flight cannot write the session back
  c.get('session').deleteSession();
  return c.redirect('/', 303);
});

const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, () => {
  console.log(`Hono example on http://127.0.0.1:${port}/ with sessions in ${ddb.where}`);
  console.log('Open it, log in, reload (the visit count survives), then log out. Ctrl-C stops it.');
});
stopOnSignal(async () => {
  server.close();
  if ('closeAllConnections' in server) server.closeAllConnections();
  store.close();
  await ddb.stop();
});

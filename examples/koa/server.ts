/**
 * Koa + koa-session + dynamodb-sessions.
 * Run: npm run example:koa   (DynamoDB Local is started for you; see examples/shared/dynamodb.ts)
 */
import Koa from 'koa';
import { DynamoDBStore, dynamodbSession } from '../../adapters/koa.ts';
import { exampleDynamoDB, stopOnSignal } from '../shared/dynamodb.ts';

/** What the routes keep in `ctx.session` (koa-session's `Session`). */
interface AppSession {
  account?: { name: string; loggedInAt: string };
  visits?: number;
  readonly isNew: boolean;
  readonly externalKey: string;
  regenerate(): Promise<void>;
  toJSON(): Record<string, unknown>;
}

const port = Number(process.env.PORT ?? 3000);
const ddb = await exampleDynamoDB();
const store = new DynamoDBStore({
  clientConfig: ddb.clientConfig,
  tableName: ddb.tableName,
  userId: (s) => (s.account as AppSession['account'])?.name,
});

const app = new Koa();
app.keys = [process.env.SESSION_KEY ?? 'change-me-to-a-long-random-key'];
app.use(
  dynamodbSession(app, {
    store,
    // rolling: every request slides the expiry; DynamoDB sees at most one expiry write per hour
    session: { maxAge: 24 * 3600 * 1000, rolling: true, sameSite: 'lax' },
  }),
);

const html = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>dynamodb-sessions: Koa</title></head><body>${body}</body></html>`;

async function readForm(ctx: Koa.Context): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of ctx.req) {
    body += String(chunk);
    if (body.length > 10_000) ctx.throw(413, 'form too large');
  }
  return new URLSearchParams(body);
}

async function home(ctx: Koa.Context, session: AppSession): Promise<void> {
  const user = session.account;
  if (!user) {
    ctx.body = page(`<h1>Not logged in</h1>
<form method="post" action="/login"><label>Name <input name="name" required></label> <button type="submit">Log in</button></form>`);
    return;
  }
  session.visits = (session.visits ?? 0) + 1;
  const devices = await store.listUserSessions(user.name);
  ctx.body = page(`<h1 id="welcome">Hello, ${html(user.name)}</h1>
<p>Logged in at <span id="logged-in-at">${html(user.loggedInAt)}</span>; <span id="visits">${session.visits}</span> visits in this session.</p>
<p>Session key: <code>${html(session.externalKey.slice(0, 8))}…</code>, stored in DynamoDB table <code>${html(ddb.tableName)}</code>.
<a href="/session.json">See the session as JSON</a>.</p>
<p>${devices.length} live session(s) for this user (log in from another browser to see more).</p>
<form method="post" action="/logout-others"><button type="submit">Log out other devices</button></form>
<form method="post" action="/logout"><button type="submit" id="logout">Log out</button></form>`);
}

app.use(async (ctx) => {
  const session = ctx.session as AppSession;
  const route = `${ctx.method} ${ctx.path}`;
  switch (route) {
    case 'GET /':
      return home(ctx, session);
    case 'GET /session.json':
      ctx.body = { key: session.isNew ? null : session.externalKey, session: session.toJSON() };
      return;
    case 'POST /login': {
      const name = (await readForm(ctx)).get('name')?.trim() || 'guest';
      session.account = { name, loggedInAt: new Date().toISOString() };
      session.visits = 0;
      // a new key at login, against session fixation; it is saved before the redirect is sent
      if (!session.isNew) await session.regenerate();
      ctx.redirect('/');
      return;
    }
    case 'POST /logout-others': {
      const user = session.account;
      if (user) await store.destroyUserSessions(user.name, { except: session.externalKey });
      ctx.redirect('/');
      return;
    }
    case 'POST /logout':
      ctx.session = null;
      ctx.redirect('/');
      return;
    default:
      ctx.status = 404;
  }
});

const server = app.listen(port, '127.0.0.1', () => {
  console.log(`Koa example on http://127.0.0.1:${port}/ with sessions in ${ddb.where}`);
  console.log('Open it, log in, reload (the visit count survives), open /session.json, then log out.');
  console.log(
    `Or with curl: curl -c jar -b jar -d name=ada http://127.0.0.1:${port}/login && curl -b jar http://127.0.0.1:${port}/session.json`,
  );
  console.log('Ctrl-C stops it (and DynamoDB Local, when it was started here).');
});
stopOnSignal(async () => {
  server.close();
  server.closeAllConnections();
  store.close();
  await ddb.stop();
});

/**
 * Express + express-session + dynamodb-sessions.
 * Run: npm run example:express   (DynamoDB Local is started for you; see examples/shared/dynamodb.ts)
 */
import express from 'express';
import session from 'express-session';
import { DynamoDBStore } from '../../adapters/express.ts';
import { exampleDynamoDB, stopOnSignal } from '../shared/dynamodb.ts';

declare module 'express-session' {
  interface SessionData {
    account?: { name: string; loggedInAt: string };
    visits?: number;
  }
}

const port = Number(process.env.PORT ?? 3000);
const ddb = await exampleDynamoDB();
const store = new DynamoDBStore({
  clientConfig: ddb.clientConfig,
  tableName: ddb.tableName,
  userId: (s) => s.account?.name,
});

const app = express();
app.use(express.urlencoded({ extended: false }));
app.use(
  session({
    store,
    secret: process.env.SESSION_SECRET ?? 'change-me-to-a-long-random-secret',
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: 24 * 3600 * 1000, httpOnly: true, sameSite: 'lax' },
  }),
);

const html = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>dynamodb-sessions: Express</title></head><body>${body}</body></html>`;

app.get('/', (req, res) => {
  const user = req.session.account;
  if (!user) {
    res.send(
      page(`<h1>Not logged in</h1>
<form method="post" action="/login"><label>Name <input name="name" required></label> <button type="submit">Log in</button></form>`),
    );
    return;
  }
  req.session.visits = (req.session.visits ?? 0) + 1;
  res.send(
    page(`<h1 id="welcome">Hello, ${html(user.name)}</h1>
<p>Logged in at <span id="logged-in-at">${html(user.loggedInAt)}</span>; <span id="visits">${req.session.visits}</span> visits in this session.</p>
<p>Session id: <code>${html(req.sessionID.slice(0, 6))}…</code>, stored in DynamoDB table <code>${html(ddb.tableName)}</code>.</p>
<form method="post" action="/logout-others"><button type="submit">Log out other devices</button></form>
<form method="post" action="/logout"><button type="submit" id="logout">Log out</button></form>`),
  );
});

app.post('/login', (req, res, next) => {
  const name = String(req.body.name ?? '').trim() || 'guest';
  // a new session id at login, against session fixation
  req.session.regenerate((err) => {
    if (err) return next(err);
    req.session.account = { name, loggedInAt: new Date().toISOString() };
    // wait for the write before answering: the login must be stored when the browser follows the redirect
    req.session.save((saveErr) => (saveErr ? next(saveErr) : res.redirect('/')));
  });
});

app.post('/logout-others', async (req, res, next) => {
  try {
    const user = req.session.account;
    if (user) await store.destroyUserSessions(user.name, { except: req.sessionID });
    res.redirect('/');
  } catch (err) {
    next(err);
  }
});

app.post('/logout', (req, res, next) => {
  req.session.destroy((err) => (err ? next(err) : res.redirect('/')));
});

const server = app.listen(port, '127.0.0.1', () => {
  console.log(`Express example on http://127.0.0.1:${port}/ with sessions in ${ddb.where}`);
  console.log('Open it, log in, reload (the visit count survives), then log out. Ctrl-C stops it.');
});
stopOnSignal(async () => {
  server.close();
  server.closeAllConnections();
  store.close();
  await ddb.stop();
});

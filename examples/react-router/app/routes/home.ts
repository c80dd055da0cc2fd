/** `/`: the login form, or the signed-in page (each view counted in the session). */
import { createElement as h } from 'react';
import { data, type LoaderFunctionArgs, useLoaderData } from 'react-router';
import { commitSession, ddb, getSession, storage } from '../sessions.server.ts';

export async function loader({ request }: LoaderFunctionArgs) {
  const session = await getSession(request.headers.get('Cookie'));
  const account = session.get('account');
  // nothing to commit: a visitor who never logs in costs no write
  if (!account) return { user: null };
  const visits = (session.get('visits') ?? 0) + 1;
  session.set('visits', visits);
  const devices = await storage.engine.listUserSessions(account.name);
  const page = {
    user: account,
    visits,
    sessionId: session.id.slice(0, 6),
    tableName: ddb.tableName,
    devices: devices.length,
  };
  // the commit writes the change over the version loaded, and moves the cookie's expiry on
  return data(page, { headers: { 'Set-Cookie': await commitSession(session) } });
}

function LoginForm() {
  return h(
    'form',
    { method: 'post', action: '/login' },
    h('label', null, 'Name ', h('input', { name: 'name', required: true })),
    ' ',
    h('button', { type: 'submit' }, 'Log in'),
  );
}

export default function Home() {
  const page = useLoaderData<typeof loader>();
  if (!page.user) return h('main', null, h('h1', null, 'Not logged in'), h(LoginForm));
  const { user, visits, sessionId, tableName, devices } = page;
  return h(
    'main',
    null,
    h('h1', { id: 'welcome' }, `Hello, ${user.name}`),
    h(
      'p',
      null,
      'Logged in at ',
      h('span', { id: 'logged-in-at' }, user.loggedInAt),
      '; ',
      h('span', { id: 'visits' }, visits),
      ' visits in this session.',
    ),
    h(
      'p',
      null,
      'Session id: ',
      h('code', null, `${sessionId}…`),
      ', stored in DynamoDB table ',
      h('code', null, tableName),
      '.',
    ),
    h('p', null, `${devices} live session(s) for this user (log in from another browser to see more).`),
    h(
      'form',
      { method: 'post', action: '/logout-others' },
      h('button', { type: 'submit' }, 'Log out other devices'),
    ),
    h(
      'form',
      { method: 'post', action: '/logout' },
      h('button', { type: 'submit', id: 'logout' }, 'Log out'),
    ),
  );
}

/** `POST /login`: a resource route (an action, no page). */
import { type ActionFunctionArgs, redirect } from 'react-router';
import { commitSession, destroySession, getSession } from '../sessions.server.ts';

export async function action({ request }: ActionFunctionArgs) {
  const form = await request.formData();
  const name = String(form.get('name') ?? '').trim() || 'guest';
  // a new session id at login, against session fixation: the old session goes, a new one is made
  const old = await getSession(request.headers.get('Cookie'));
  if (old.id) await destroySession(old);
  const session = await getSession(null);
  session.set('account', { name, loggedInAt: new Date().toISOString() });
  session.set('visits', 0);
  // the commit stores the session before the redirect leaves, so the next page finds it
  return redirect('/', { headers: { 'Set-Cookie': await commitSession(session) } });
}

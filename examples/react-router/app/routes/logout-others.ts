/** `POST /logout-others`: every other session of this user is destroyed (the user index). */
import { type ActionFunctionArgs, redirect } from 'react-router';
import { getSession, storage } from '../sessions.server.ts';

export async function action({ request }: ActionFunctionArgs) {
  const session = await getSession(request.headers.get('Cookie'));
  const account = session.get('account');
  if (account) await storage.engine.destroyUserSessions(account.name, { except: session.id });
  return redirect('/');
}

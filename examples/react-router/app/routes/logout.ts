/** `POST /logout`: the session is destroyed (a tombstone: no request in flight can write it back). */
import { type ActionFunctionArgs, redirect } from 'react-router';
import { destroySession, getSession } from '../sessions.server.ts';

export async function action({ request }: ActionFunctionArgs) {
  const session = await getSession(request.headers.get('Cookie'));
  return redirect('/', { headers: { 'Set-Cookie': await destroySession(session) } });
}

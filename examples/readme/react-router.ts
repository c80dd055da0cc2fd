import { serve } from '@hono/node-server';
import { createDynamoDBSessionStorage } from 'dynamodb-sessions/react-router';
import { createStaticHandler, isRouteErrorResponse, redirect } from 'react-router';

// what your app keeps in the session
type SessionKeys = { user: { id: string; name: string } };

const secret = process.env.SESSION_SECRET;
if (!secret) throw new Error('Set SESSION_SECRET to a long random string: it signs the session cookie');

// in framework mode, this is app/sessions.server.ts
const { getSession, commitSession, destroySession } = createDynamoDBSessionStorage<SessionKeys>({
  cookie: { name: '__session', secrets: [secret], httpOnly: true, sameSite: 'lax', maxAge: 24 * 3600 },
  tableName: 'sessions', // region and credentials: clientConfig, or the AWS SDK's environment
});

// in framework mode, each loader and action is a route module's
const routes = createStaticHandler([
  {
    path: '/login',
    action: async ({ request }) => {
      // a new session at login, against session fixation: the old one ends, the new one gets a new id
      await destroySession(await getSession(request.headers.get('Cookie')));
      const session = await getSession(null);
      session.set('user', { id: '42', name: 'Ada' }); // check the credentials first
      return redirect('/', { headers: { 'Set-Cookie': await commitSession(session) } });
    },
  },
  {
    path: '/',
    loader: async ({ request }) => {
      const session = await getSession(request.headers.get('Cookie'));
      return Response.json({ user: session.get('user') ?? null });
    },
  },
]);

// any server of fetch handlers; in framework mode, react-router-serve or your adapter's
serve({
  fetch: (request) =>
    routes.queryRoute(request).catch((error: unknown) => {
      // no such route (404), or an error of the store (503 when DynamoDB fails)
      if (isRouteErrorResponse(error)) return new Response(error.statusText, { status: error.status });
      throw error;
    }),
  port: Number(process.env.PORT ?? 3000),
});

import { serve } from '@hono/node-server';
import { DynamoDBStore } from 'dynamodb-sessions/hono';
import { Hono } from 'hono';
import { type Session, sessionMiddleware } from 'hono-sessions';

// what your app keeps in the session
type SessionKeys = { user: { id: string; name: string } };

const app = new Hono<{ Variables: { session: Session<SessionKeys>; session_key_rotation: boolean } }>();
app.use(
  '*',
  sessionMiddleware({
    // region and credentials: the AWS SDK's (AWS_REGION, ...), or the store's clientConfig option
    store: new DynamoDBStore({ tableName: 'sessions' }),
    // no encryptionKey: the cookie holds a random session id, which opens nothing unless stored
    expireAfterSeconds: 24 * 3600,
    cookieOptions: { httpOnly: true, sameSite: 'Lax', path: '/' },
  }),
);

app.post('/login', (c) => {
  c.get('session').set('user', { id: '42', name: 'Ada' }); // check the credentials first
  c.set('session_key_rotation', true); // a new session id at login, against session fixation
  return c.redirect('/', 303);
});
app.get('/', (c) => c.json({ user: c.get('session').get('user') }));

serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000) });

import { dynamodbSessions } from 'dynamodb-sessions/fastify';
import Fastify from 'fastify';

// what your app keeps in request.session
declare module 'fastify' {
  interface Session {
    user?: { id: string; name: string };
  }
}

const secret = process.env.SESSION_SECRET;
if (!secret || secret.length < 32) {
  throw new Error('Set SESSION_SECRET to a random string of at least 32 characters: it signs the cookie');
}

const app = Fastify();
await app.register(dynamodbSessions, {
  secret,
  tableName: 'sessions', // region and credentials: clientConfig, or the AWS SDK's environment
  cookie: { maxAge: 24 * 3600 * 1000 },
  saveUninitialized: false,
});

app.post('/login', async (request, reply) => {
  await request.session.regenerate(); // a new session id at login, against session fixation
  request.session.user = { id: '42', name: 'Ada' }; // check the credentials first
  return reply.redirect('/', 303); // the session is written before this reply leaves
});
app.get('/', async (request) => ({ user: request.session.user ?? null }));

await app.listen({ port: Number(process.env.PORT ?? 3000) });

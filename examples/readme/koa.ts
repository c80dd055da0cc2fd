import { dynamodbSession } from 'dynamodb-sessions/koa';
import Koa from 'koa';

const key = process.env.SESSION_KEY;
if (!key) throw new Error('Set SESSION_KEY to a long random string: it signs the session cookie');

const app = new Koa();
app.keys = [key];
app.use(
  dynamodbSession(app, {
    tableName: 'sessions', // the store's options at the top level (region: clientConfig or AWS_REGION)
    session: { maxAge: 24 * 3600 * 1000, rolling: true }, // koa-session's under `session`
  }),
);

app.use(async (ctx) => {
  if (ctx.method === 'POST' && ctx.path === '/login') {
    ctx.session.user = { id: '42', name: 'Ada' }; // check the credentials first
    // a new key at login, against session fixation (a new session's key is new already)
    if (!ctx.session.isNew) await ctx.session.regenerate();
    ctx.redirect('/');
  } else if (ctx.path === '/') {
    ctx.body = { user: ctx.session.user ?? null };
  } else {
    ctx.status = 404;
  }
});

app.listen(Number(process.env.PORT ?? 3000));

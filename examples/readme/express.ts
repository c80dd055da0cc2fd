import { DynamoDBStore } from 'dynamodb-sessions/express';
import express from 'express';
import session from 'express-session';

// what your app keeps in req.session
declare module 'express-session' {
  interface SessionData {
    user: { id: string; name: string };
  }
}

const secret = process.env.SESSION_SECRET;
if (!secret) throw new Error('Set SESSION_SECRET to a long random string: it signs the session cookie');

const app = express();
app.use(
  session({
    // region and credentials: the AWS SDK's (AWS_REGION, ...), or the store's clientConfig option
    store: new DynamoDBStore({ tableName: 'sessions' }),
    secret,
    resave: false, // with true, express-session saves every request; the store still writes nothing for unchanged data
    saveUninitialized: false, // no item for visitors who never log in
    cookie: { maxAge: 24 * 3600 * 1000 },
  }),
);

app.post('/login', (req, res, next) => {
  const user = { id: '42', name: 'Ada' }; // check the credentials here
  // a new session id at login, against session fixation
  req.session.regenerate((err) => {
    if (err) return next(err);
    req.session.user = user;
    // express-session saves after the response; wait for this write, so that a failure reaches next()
    req.session.save((saveErr) => (saveErr ? next(saveErr) : res.redirect('/')));
  });
});
app.get('/', (req, res) => {
  res.json({ user: req.session.user ?? null });
});

app.listen(Number(process.env.PORT ?? 3000));

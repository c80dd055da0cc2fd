/**
 * Sessions in a DynamoDB table that lives in another AWS account.
 *
 * The app's own role (account A) may assume a role in the account that owns the table (account B).
 * The store's client gets temporary credentials for that role from a credential provider, which
 * the SDK refreshes before they expire. They are given in `clientConfig`, so the store still makes
 * its own client (and keeps its fast path).
 *
 * Account B's role needs a trust policy that lets account A's role call sts:AssumeRole, and a
 * policy granting dynamodb:GetItem, PutItem, UpdateItem and DeleteItem on the table (see README, IAM).
 *
 * This example always uses AWS (it never starts DynamoDB Local). Run, with AWS credentials for account A:
 *   SESSIONS_ROLE_ARN=arn:aws:iam::222222222222:role/sessions-access AWS_REGION=eu-west-1 \
 *   TABLE_NAME=sessions SESSION_SECRET=... npx tsx examples/cross-account/server.ts
 */
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import express from 'express';
import session from 'express-session';
import { DynamoDBStore } from '../../adapters/express.ts';

declare module 'express-session' {
  interface SessionData {
    views?: number;
  }
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const roleArn = process.env.SESSIONS_ROLE_ARN;
const region = process.env.AWS_REGION;
const secret = process.env.SESSION_SECRET;
if (!roleArn || !region || !secret) {
  console.error(
    'Set SESSIONS_ROLE_ARN (the role in the account that owns the table), AWS_REGION and SESSION_SECRET.',
  );
  process.exit(1);
}

const credentials = fromTemporaryCredentials({
  params: {
    RoleArn: roleArn,
    RoleSessionName: 'sessions-store',
    DurationSeconds: 3600,
    // an external id guards against the confused-deputy problem when account B asks for one
    ...(process.env.SESSIONS_EXTERNAL_ID && { ExternalId: process.env.SESSIONS_EXTERNAL_ID }),
  },
  clientConfig: { region },
});
// assume the role once at start-up, so that a missing permission is one clear line, not a 503 later
await credentials().catch((err: unknown) => {
  console.error(`Cannot assume ${roleArn}: ${err instanceof Error ? err.message.split('\n')[0] : err}`);
  process.exit(1);
});

const store = new DynamoDBStore({
  tableName: process.env.TABLE_NAME ?? 'sessions',
  clientConfig: { region, credentials },
});
const app = express();
app.use(
  session({
    store,
    secret,
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: 3_600_000, secure: process.env.NODE_ENV === 'production' },
  }),
);
app.get('/', (req, res) => {
  req.session.views = (req.session.views ?? 0) + 1;
  res.send(`Views in this session: ${req.session.views} (stored in another account's table)`);
});
const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, '127.0.0.1', () => {
  console.log(`Cross-account example on http://127.0.0.1:${port}/`);
});
process.once('SIGTERM', () => server.close(() => store.close()));

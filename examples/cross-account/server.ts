/**
 * Sessions in a DynamoDB table that lives in another AWS account.
 *
 * The app's own role (account A) may assume a role in the account that owns the table (account B).
 * The client gets temporary credentials for that role, refreshed by the SDK before they expire;
 * the store only ever sees the client, so nothing in it changes.
 *
 * Account B's role needs a trust policy that lets account A's role call sts:AssumeRole, and a
 * policy granting dynamodb:GetItem, PutItem, UpdateItem and DeleteItem on the table (see README, IAM).
 *
 * Run (needs AWS credentials for account A):
 *   SESSIONS_ROLE_ARN=arn:aws:iam::222222222222:role/sessions-access AWS_REGION=eu-west-1 \
 *   TABLE_NAME=sessions npx tsx examples/cross-account/server.ts
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import express from 'express';
import session from 'express-session';
import { DynamoDBStore } from '../../adapters/express.ts';

const roleArn = process.env.SESSIONS_ROLE_ARN;
const region = process.env.AWS_REGION;
if (!roleArn || !region) {
  console.error('Set SESSIONS_ROLE_ARN (the role in the account that owns the table) and AWS_REGION.');
  process.exit(1);
}

const client = new DynamoDBClient({
  region,
  credentials: fromTemporaryCredentials({
    params: {
      RoleArn: roleArn,
      RoleSessionName: 'sessions-store',
      DurationSeconds: 3600,
      // an external id guards against the confused-deputy problem when account B asks for one
      ...(process.env.SESSIONS_EXTERNAL_ID && { ExternalId: process.env.SESSIONS_EXTERNAL_ID }),
    },
  }),
});

const app = express();
app.use(
  session({
    store: new DynamoDBStore({ client, tableName: process.env.TABLE_NAME ?? 'sessions' }),
    secret: process.env.SESSION_SECRET ?? 'change-me-to-a-long-random-secret',
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: 3_600_000, secure: process.env.NODE_ENV === 'production' },
  }),
);
app.get('/', (req, res) => {
  const data = req.session as typeof req.session & { views?: number };
  data.views = (data.views ?? 0) + 1;
  res.send(`Views in this session: ${data.views} (stored in another account's table)`);
});
app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`Cross-account example on http://127.0.0.1:${process.env.PORT ?? 3000}/`);
});

/**
 * The session storage, in one module the routes import (a real app's `app/sessions.server.ts`).
 * DynamoDB Local is started here, before the first request (see examples/shared/dynamodb.ts).
 */
import { createDynamoDBSessionStorage } from '../../../adapters/react-router.ts';
import { exampleDynamoDB } from '../../shared/dynamodb.ts';

export interface Account {
  name: string;
  loggedInAt: string;
}

/** What the routes keep in the session. */
export interface AppSession {
  account: Account;
  visits: number;
}

export const ddb = await exampleDynamoDB();

export const storage = createDynamoDBSessionStorage<AppSession>({
  cookie: {
    name: '__session',
    // signs the cookie; give the old secret second to keep its cookies valid through a rotation
    secrets: [process.env.SESSION_SECRET ?? 'change-me-to-a-long-random-secret'],
    httpOnly: true,
    sameSite: 'lax',
    // the session's lifetime too: every commit moves it a day on, DynamoDB sees at most one expiry write per hour
    maxAge: 24 * 3600,
    // this demo is served over plain HTTP; behind HTTPS set it to true
    secure: false,
  },
  clientConfig: ddb.clientConfig,
  tableName: ddb.tableName,
  userId: (data) => (data.account as Account | undefined)?.name,
});

export const { getSession, commitSession, destroySession } = storage;

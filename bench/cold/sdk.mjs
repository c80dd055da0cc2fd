// The baseline of the cold-start measurement: the SDK's client and express-session, as an app imports them.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import 'express-session';

const client = new DynamoDBClient({});
const cpu = process.cpuUsage();
process.stdout.write(
  JSON.stringify({ ready: performance.now(), cpu: (cpu.user + cpu.system) / 1000, made: !!client }),
);

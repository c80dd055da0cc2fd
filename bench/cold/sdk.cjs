// The baseline of the cold-start measurement, CommonJS.
const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
require('express-session');

const client = new DynamoDBClient({});
const cpu = process.cpuUsage();
process.stdout.write(
  JSON.stringify({ ready: performance.now(), cpu: (cpu.user + cpu.system) / 1000, made: !!client }),
);

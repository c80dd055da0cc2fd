// This package's Express store from the built dist/, CommonJS.
const { DynamoDBStore } = require('dynamodb-sessions/express');

const store = new DynamoDBStore({ tableName: 'sessions' });
const cpu = process.cpuUsage();
process.stdout.write(
  JSON.stringify({ ready: performance.now(), cpu: (cpu.user + cpu.system) / 1000, made: !!store }),
);

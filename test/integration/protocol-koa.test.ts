/** The save protocol through Koa 3 and koa-session, with `rolling` on and with its default (off). */
import { protocolSuite } from './protocol-suite.ts';

for (const rolling of [true, false]) {
  for (const cache of ['default', 'off', 'evicted'] as const)
    protocolSuite({ framework: 'koa', cache, rolling });
  protocolSuite({ framework: 'koa', cache: 'default', rolling, ownClient: true });
}

/**
 * Types for the session libraries libraries.test.ts runs that ship none: passport 0.5 (installed
 * under the alias `passport-0.5`) and koa-passport. Their Authenticator has the API that
 * `@types/passport` describes for passport 0.7, except `req.logout()`, which the test calls itself.
 */

declare module 'passport-0.5' {
  import passport = require('passport');
  export = passport;
}

declare module 'koa-passport' {
  import type { Middleware } from 'koa';
  import type { Authenticator } from 'passport';

  type KoaAuthenticator = Authenticator<Middleware, Middleware>;
  /** The default export is a singleton; `KoaPassport` makes an instance of one's own. */
  const koaPassport: KoaAuthenticator & { KoaPassport: new () => KoaAuthenticator };
  export = koaPassport;
}

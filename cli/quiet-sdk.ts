/**
 * On Node 20 the AWS SDK prints an 8-line notice about the Node versions of its future releases (a
 * `NodeVersionSupportWarning`) when the first client is made. It says nothing about the user's
 * table, so the CLI keeps it out of its output, as the examples do. A value set by the user wins.
 * A function, called by `main.ts` before it makes a client: a side-effect-only module would be
 * dropped from the bundle (the package declares `sideEffects: false`).
 */
export function silenceNodeVersionNotice(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/**
 * Imported first by `main.ts`, before the AWS SDK: on Node 20 the SDK prints an 8-line notice about
 * the Node versions of its future releases (a `NodeVersionSupportWarning`, emitted when a client is
 * made). It says nothing about the user's table, so the CLI keeps it out of its output, as the
 * examples do. A value set by the user wins.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

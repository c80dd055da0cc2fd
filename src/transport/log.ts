/**
 * What the debug log (`NODE_DEBUG=dynamodb-sessions`) may say of an error. Never the error itself
 * with `%o`: that walks its hidden `$response` down to the request that was sent, signed headers and
 * session token included. DynamoDB's answer to a badly signed request also quotes the canonical
 * request, session token included, after the first line of its message.
 */

/** Header values and signature parts that authenticate a request, wherever they appear in a text. */
const secrets =
  /(x-amz-security-token|authorization|x-amz-content-sha256)\s*[:=]\s*[^\s,'"]+|(Signature|Credential)=[^\s,'"]+/gi;

/** The first line of a text, without anything that authenticates a request, at most 300 characters. */
function masked(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  const short = line.length > 300 ? `${line.slice(0, 300)}…` : line;
  return short.replace(secrets, (found) => `${found.split(/[:=]/, 1)[0]}=[hidden]`);
}

function oneError(err: unknown): string {
  if (!(err instanceof Error)) return typeof err === 'string' ? masked(err) : typeof err;
  const code = (err as { code?: unknown }).code;
  return `${err.name}${typeof code === 'string' ? ` (${code})` : ''}: ${masked(err.message)}`;
}

/**
 * An error as the debug log shows it: name, code and the first line of its message, then its
 * cause's, and nothing else (not its `$response`, not its metadata). @internal
 */
export function errorText(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  return cause === undefined ? oneError(err) : `${oneError(err)}; cause: ${oneError(cause)}`;
}

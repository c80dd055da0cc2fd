/**
 * What the checks of `doctor` and `create-table` share: the table they expect, the shape of a
 * finding, and the commands a fix prints.
 */
import { DEFAULTS } from '../src/index.js';

/** What the table should look like, and where it is. @internal */
export interface TableSpec {
  tableName: string;
  hashKey: string;
  expiresAttribute: string;
  /** The user index to check; `undefined` when not asked. */
  userIndex: string | undefined;
  userIdAttribute: string;
  /** The store's key prefix, under which doctor's probe item goes. @defaultValue `DEFAULTS.prefix` */
  prefix?: string;
  /** For the fix commands. */
  region: string | undefined;
  endpoint: string | undefined;
}

/**
 * One check's outcome. A `problem` fails the command (exit code 1); a `warning` is something to
 * know that may be intended, and does not.
 * @internal
 */
export interface Check {
  name: string;
  status: 'ok' | 'problem' | 'warning' | 'skipped';
  message: string;
  /** How to fix a problem, or what to do about a warning. */
  fix?: string;
}

export const ok = (name: string, message: string): Check => ({ name, status: 'ok', message });
export const problem = (name: string, message: string, fix: string): Check => ({
  name,
  status: 'problem',
  message,
  fix,
});
export const warning = (name: string, message: string, fix: string): Check => ({
  name,
  status: 'warning',
  message,
  fix,
});
export const errorText = (err: unknown) =>
  err instanceof Error ? `${err.name}: ${err.message}` : String(err);
const quote = (s: string) => (/^[\w.:/@#=,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

/**
 * Why an index added to a table of DynamoDB Local can stay CREATING: it runs its background jobs on
 * 10 threads, and each table with TTL on keeps one. @internal
 */
export const LOCAL_INDEX_HINT =
  'DynamoDB Local builds an added index only while fewer than 7 of its tables have TTL on: ' +
  'restart it, or create the table with --user-index from the start';

/** `npx dynamodb-sessions create-table ...` for this table. @internal */
export function createCommand(spec: TableSpec): string {
  const args = ['npx dynamodb-sessions create-table --table', quote(spec.tableName)];
  if (spec.hashKey !== DEFAULTS.hashKey) args.push('--hash-key', spec.hashKey);
  if (spec.expiresAttribute !== DEFAULTS.expiresAttribute)
    args.push('--ttl-attribute', spec.expiresAttribute);
  if (spec.userIndex) args.push('--user-index');
  if (spec.userIndex && spec.userIndex !== DEFAULTS.userIndex) args.push('--index-name', spec.userIndex);
  if (spec.userIndex && spec.userIdAttribute !== DEFAULTS.userIdAttribute)
    args.push('--user-attribute', spec.userIdAttribute);
  if (spec.region) args.push('--region', spec.region);
  if (spec.endpoint) args.push('--endpoint', spec.endpoint);
  return args.join(' ');
}

/** `aws dynamodb <command> --table-name ...` for this table. @internal */
export function awsCommand(spec: TableSpec, command: string, ...args: string[]): string {
  const where = [
    ...(spec.region ? ['--region', spec.region] : []),
    ...(spec.endpoint ? ['--endpoint-url', spec.endpoint] : []),
  ];
  return ['aws dynamodb', command, '--table-name', quote(spec.tableName), ...args, ...where].join(' ');
}

/** How to fix a failed call: the permission it lacks, or where it went. @internal */
export function accessFix(err: unknown, action: string, resource = 'the table', spec?: TableSpec): string {
  if (err instanceof Error && err.name === 'AccessDeniedException') {
    return `allow dynamodb:${action} on ${resource} for these credentials`;
  }
  if (spec?.endpoint && err instanceof Error && /ECONNREFUSED/.test(err.message)) {
    return `nothing answers at ${spec.endpoint}: start DynamoDB Local there, or fix --endpoint`;
  }
  return 'check the credentials, --region and --endpoint';
}

/** The checks as text, one a line with its fix below, then the verdict. @internal */
export function formatChecks(checks: Check[]): string {
  const lines = checks.map((c) => {
    // a fix may offer alternatives, one a line; a warning's is advice
    const label = c.status === 'warning' ? 'tip: ' : 'fix: ';
    const fix = (c.fix?.split('\n') ?? []).map((l, n) => `\n           ${n ? '' : label}${l}`).join('');
    return `  ${c.status.padEnd(8)} ${c.message}${fix}`;
  });
  const count = (status: Check['status'], what: string) => {
    const n = checks.filter((c) => c.status === status).length;
    return n ? `${n} ${what}${n > 1 ? 's' : ''}` : '';
  };
  const problems = count('problem', 'problem');
  const warnings = count('warning', 'warning');
  const verdict = problems ? `${problems} found` : 'All checks passed';
  lines.push(`${verdict}${warnings ? `, ${warnings}` : ''}.`);
  return lines.join('\n');
}

/**
 * The `dynamodb-sessions` command: `create-table`, `doctor`, `cost`, `iam-policy` and `template`.
 * Exit codes: 0 ok, 1 problems found, DynamoDB failed or no credentials/region, 2 bad command line.
 */
import { parseArgs } from 'node:util';
import { type CreateTableResult, createTable, DEFAULTS, InvalidOptionError } from '../src/index.js';
import { type Check, formatChecks, LOCAL_INDEX_HINT, type TableSpec } from './check.js';
import { type Connection, connect, isLoopback, SetupError } from './connect.js';
import { COST_DEFAULTS, type CostInputs, costVariants, estimateCost } from './cost-model.js';
import { formatCost } from './cost-report.js';
import { checkTable, runChecks } from './doctor.js';
import { type ActionReason, type PolicyDocument, type PolicySpec, policiesFor } from './iam-policy.js';
import { silenceNodeVersionNotice } from './quiet-sdk.js';
import {
  cloudFormation,
  TEMPLATE_FORMATS,
  type TemplateFormat,
  type TemplateSpec,
  templateText,
} from './template.js';
import { cdkSnippet, terraform } from './template-code.js';

// before any client is made: the SDK checks when it makes the first one
silenceNodeVersionNotice();

type Values = Record<string, string | boolean | undefined>;
type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

interface Command {
  summary: string;
  usage: string;
  options: OptionSpec;
  /** [flag with its value, description] for --help */
  flags: [string, string][];
  run(values: Values): Promise<number>;
}

/** A bad command line: exit code 2. */
class UsageError extends Error {
  /** The command whose help to point at. */
  command = '';
}

const print = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
const json = (value: unknown) => print(JSON.stringify(value, null, 2));
const str = (v: Values, flag: string) => (typeof v[flag] === 'string' ? (v[flag] as string) : undefined);
const errorText = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

const common: OptionSpec = { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } };
const commonFlags: [string, string][] = [
  ['--json', 'print machine-readable JSON'],
  ['-h, --help', 'show this help'],
];

const tableOptions: OptionSpec = {
  table: { type: 'string' },
  region: { type: 'string' },
  endpoint: { type: 'string' },
  'hash-key': { type: 'string' },
  'ttl-attribute': { type: 'string' },
  'user-index': { type: 'boolean' },
  'index-name': { type: 'string' },
  'user-attribute': { type: 'string' },
};
const tableFlags: [string, string][] = [
  ['--table NAME', 'table name (required)'],
  ['--region R', 'AWS region (default: the SDK chain, e.g. AWS_REGION)'],
  ['--endpoint URL', 'DynamoDB endpoint, e.g. http://127.0.0.1:8000 for DynamoDB Local (any keys)'],
  ['--hash-key NAME', `partition key name, type S (default ${DEFAULTS.hashKey})`],
  [
    '--ttl-attribute NAME',
    `expiry attribute, epoch seconds, with TTL on it (default ${DEFAULTS.expiresAttribute})`,
  ],
  ['--user-index', 'the global secondary index for per-user operations (added to an existing table)'],
  ['--index-name NAME', `its name (default ${DEFAULTS.userIndex})`],
  ['--user-attribute NAME', `its partition key, the user id (default ${DEFAULTS.userIdAttribute})`],
];

const attributeName = /^[A-Za-z0-9_.-]{1,255}$/;

function name(v: Values, flag: string, fallback: string, pattern = attributeName): string {
  const value = str(v, flag) ?? fallback;
  if (!pattern.test(value)) {
    throw new UsageError(
      `--${flag}: expected ${pattern === attributeName ? '1' : '3'}-255 characters of A-Z a-z 0-9 _ . -, got "${value}"`,
    );
  }
  return value;
}

function tableSpec(v: Values): TableSpec {
  if (str(v, 'table') === undefined) throw new UsageError('--table is required');
  const endpoint = str(v, 'endpoint');
  if (endpoint !== undefined && !/^https?:$/.test(URL.canParse(endpoint) ? new URL(endpoint).protocol : '')) {
    throw new UsageError(`--endpoint: expected an http(s) URL, got "${endpoint}"`);
  }
  if (!v['user-index'] && (str(v, 'index-name') ?? str(v, 'user-attribute')) !== undefined) {
    throw new UsageError(`--${str(v, 'index-name') ? 'index-name' : 'user-attribute'} needs --user-index`);
  }
  return {
    tableName: name(v, 'table', '', /^[A-Za-z0-9_.-]{3,255}$/),
    hashKey: name(v, 'hash-key', DEFAULTS.hashKey),
    expiresAttribute: name(v, 'ttl-attribute', DEFAULTS.expiresAttribute),
    userIndex: v['user-index'] ? name(v, 'index-name', DEFAULTS.userIndex) : undefined,
    userIdAttribute: name(v, 'user-attribute', DEFAULTS.userIdAttribute),
    region: str(v, 'region'),
    endpoint,
  };
}

/** Connects as the flags say; what was filled in for DynamoDB Local is told on stderr. */
async function connectTo(spec: TableSpec): Promise<Connection> {
  const connection = await connect(spec);
  for (const note of connection.notes) process.stderr.write(`dynamodb-sessions: note: ${note}\n`);
  // the output and the fix commands name the region and endpoint used, however they were found
  spec.region ??= connection.region;
  spec.endpoint ??= connection.endpoint;
  return connection;
}

const hasProblem = (checks: Check[]) => checks.some((c) => c.status === 'problem');

function integer(v: Values, flag: string): number | undefined {
  const raw = str(v, flag);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${flag}: expected a whole number >= 1, got "${raw}"`);
  return n;
}

function billingOf(v: Values): 'on-demand' | 'provisioned' {
  const billing = str(v, 'billing') ?? DEFAULTS.table.billing;
  if (billing !== 'on-demand' && billing !== 'provisioned') {
    throw new UsageError(`--billing: expected on-demand or provisioned, got "${billing}"`);
  }
  const extra = ['rcu', 'wcu'].find((f) => v[f] !== undefined);
  if (billing === 'on-demand' && extra) throw new UsageError(`--${extra} needs --billing provisioned`);
  return billing;
}

/**
 * Seconds `create-table` waits for a new table, or for an index DynamoDB fills from existing items:
 * minutes on AWS, a moment on DynamoDB Local (or never, see `LOCAL_INDEX_HINT`).
 */
const waitSeconds = (spec: TableSpec) => (spec.endpoint && isLoopback(spec.endpoint) ? 60 : 600);

/** Tells, before the wait, that an existing table is getting its index: on AWS that takes minutes. */
async function announceIndex(client: Connection['client'], spec: TableSpec): Promise<void> {
  if (!spec.userIndex) return;
  const { table } = await checkTable(client, spec);
  if (!table || table.GlobalSecondaryIndexes?.some((g) => g.IndexName === spec.userIndex)) return;
  process.stderr.write(
    `dynamodb-sessions: adding index "${spec.userIndex}" to table "${spec.tableName}"; DynamoDB fills ` +
      `it from the existing items, which can take minutes (waiting up to ${waitSeconds(spec)} s)\n`,
  );
}

function createdText(spec: TableSpec, result: CreateTableResult, capacity: string, region: string): string {
  const index = spec.userIndex ? `index "${spec.userIndex}" on "${spec.userIdAttribute}" (S, keys only)` : '';
  if (result.created) {
    const withIndex = index ? ` with ${index}` : '';
    return `Created table "${spec.tableName}" (partition key ${spec.hashKey}: S, ${capacity})${withIndex} in ${region}.`;
  }
  const exists = `Table "${spec.tableName}" already exists in ${region}.`;
  if (!index) return exists;
  const local = spec.endpoint && isLoopback(spec.endpoint) ? ` (${LOCAL_INDEX_HINT})` : '';
  const building =
    result.indexStatus === 'ACTIVE'
      ? ''
      : ` It is ${result.indexStatus}: run doctor --user-index later${local}.`;
  if (!result.indexCreated) return `${exists} It has ${index}.${building}`;
  return `${exists} Added ${index}.${building}`;
}

async function runCreateTable(v: Values): Promise<number> {
  const spec = tableSpec(v);
  const billing = billingOf(v);
  const rcu = integer(v, 'rcu');
  const wcu = integer(v, 'wcu');
  const connection = await connectTo(spec);
  const { client, region, notes } = connection;
  try {
    await announceIndex(client, spec);
    const result = await createTable(client, {
      tableName: spec.tableName,
      hashKey: spec.hashKey,
      expiresAttribute: spec.expiresAttribute,
      userIndex: spec.userIndex ?? false,
      userIdAttribute: spec.userIdAttribute,
      billing,
      ...(rcu !== undefined && { readCapacity: rcu }),
      ...(wcu !== undefined && { writeCapacity: wcu }),
      waitSeconds: waitSeconds(spec),
    }).catch((err: unknown) => {
      throw new Error(`create-table "${spec.tableName}" in ${region} failed: ${errorText(err)}`, {
        cause: err,
      });
    });
    const checks = await runChecks(client, spec, false, connection);
    const ok = !hasProblem(checks);
    const capacity =
      billing === 'on-demand'
        ? billing
        : `provisioned ${rcu ?? DEFAULTS.table.readCapacity} RCU, ${wcu ?? DEFAULTS.table.writeCapacity} WCU`;
    if (v.json) {
      json({ command: 'create-table', table: spec.tableName, region, ...result, ok, notes, checks });
    } else {
      print(`${createdText(spec, result, capacity, region)}\n${formatChecks(checks)}`);
    }
    return ok ? 0 : 1;
  } finally {
    client.destroy();
  }
}

async function runDoctor(v: Values): Promise<number> {
  const spec = tableSpec(v);
  const prefix = str(v, 'prefix');
  if (prefix !== undefined) spec.prefix = prefix;
  const connection = await connectTo(spec);
  const { client, region, notes } = connection;
  try {
    const checks = await runChecks(client, spec, true, connection);
    const ok = !hasProblem(checks);
    if (v.json) {
      const endpoint = spec.endpoint ?? null;
      json({ command: 'doctor', table: spec.tableName, region, endpoint, ok, notes, checks });
    } else {
      const where = spec.endpoint ? `${region}, ${spec.endpoint}` : region;
      print(`Checking table "${spec.tableName}" (${where})\n${formatChecks(checks)}`);
    }
    return ok ? 0 : 1;
  } finally {
    client.destroy();
  }
}

const kebab = (field: string) => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

const costHelp: Record<keyof CostInputs, [string, string]> = {
  sessionKb: ['KB', 'average session item size, before compression'],
  rpm: ['N', 'requests per minute; each reads its session once'],
  newPerMonth: ['N', 'new sessions per month'],
  updatesPerMonth: ['N', 'session changes per month (full-item writes)'],
  stored: ['N', 'sessions stored at any time'],
  touchAfter: ['S', 'seconds between expiry rewrites of an unchanged session; 0 = every read'],
  sessionMinutes: ['M', 'minutes a new session stays in use, touched every --touch-after'],
  consistent: ['BOOL', 'strongly consistent reads (true|false)'],
  compressRatio: ['R', 'stored size / original size, in (0, 1]'],
  regions: ['N', 'regions of a global table: each replica applies every write; 1 = one region'],
  billing: ['MODE', 'provisioned|on-demand'],
  burstWcu: ['N', 'provisioned: the least WCU provisioned, for write bursts'],
  hoursPerMonth: ['H', 'hours in a billed month'],
  priceRcuHour: ['$', 'provisioned: price of one RCU per hour'],
  priceWcuHour: ['$', 'provisioned: price of one WCU per hour'],
  priceGbMonth: ['$', 'price of one GB stored per month'],
  priceReadMillion: ['$', 'on-demand: price of a million read request units'],
  priceWriteMillion: ['$', 'on-demand: price of a million write request units'],
  priceRwcuHour: ['$', 'global table, provisioned: price of one replicated WCU per hour'],
  priceReplicatedWriteMillion: ['$', 'global table, on-demand: price of a million replicated write units'],
  priceTransferGb: ['$', 'global table: price of one GB sent to another region'],
};
const costFields = Object.keys(costHelp) as (keyof CostInputs)[];

function costInputs(v: Values): Partial<CostInputs> {
  const inputs: Record<string, unknown> = {};
  for (const field of costFields) {
    const raw = str(v, kebab(field));
    if (raw === undefined) continue;
    if (field === 'billing') inputs[field] = raw;
    else if (field === 'consistent') {
      if (raw !== 'true' && raw !== 'false')
        throw new UsageError(`--consistent: expected true or false, got "${raw}"`);
      inputs[field] = raw === 'true';
    } else {
      const n = raw.trim() === '' ? Number.NaN : Number(raw);
      if (!Number.isFinite(n)) throw new UsageError(`--${kebab(field)}: expected a number, got "${raw}"`);
      inputs[field] = n;
    }
  }
  return inputs as Partial<CostInputs>;
}

async function runCost(v: Values): Promise<number> {
  const inputs = costInputs(v);
  let estimate: ReturnType<typeof estimateCost>;
  try {
    estimate = estimateCost(inputs);
  } catch (err) {
    if (err instanceof InvalidOptionError) {
      throw new UsageError(`--${kebab(err.option)}: ${err.message.replace(/^invalid option \w+: /, '')}`);
    }
    throw err;
  }
  const variants = costVariants(inputs);
  if (v.json) {
    const alternatives = variants.map((x) => ({
      label: x.label,
      flag: x.flag,
      total: x.estimate.total,
      totalRounded: x.estimate.totalRounded,
      delta: x.delta,
      estimate: x.estimate,
    }));
    json({ command: 'cost', ...estimate, variants: alternatives });
  } else print(formatCost(estimate, variants));
  return 0;
}

function bool(v: Values, flag: string, fallback: boolean): boolean {
  const raw = str(v, flag);
  if (raw === undefined) return fallback;
  if (raw !== 'true' && raw !== 'false')
    throw new UsageError(`--${flag}: expected true or false, got "${raw}"`);
  return raw === 'true';
}

function policySpec(v: Values): PolicySpec {
  const spec = tableSpec(v);
  billingOf(v);
  const account = str(v, 'account');
  if (account !== undefined && !/^\d{12}$/.test(account))
    throw new UsageError(`--account: expected a 12-digit AWS account id, got "${account}"`);
  if (spec.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(spec.region))
    throw new UsageError(`--region: expected a region such as eu-west-1, got "${spec.region}"`);
  const prefix = str(v, 'prefix') ?? DEFAULTS.prefix;
  if (v['leading-keys'] && prefix === '')
    throw new UsageError('--leading-keys needs a --prefix: with none, every key would match');
  const rawTombstone = str(v, 'tombstone-seconds');
  const tombstoneSeconds =
    rawTombstone === '0' ? 0 : (integer(v, 'tombstone-seconds') ?? DEFAULTS.tombstoneSeconds);
  return {
    tableName: spec.tableName,
    userIndex: spec.userIndex,
    prefix,
    hashIds: bool(v, 'hash-ids', DEFAULTS.hashIds),
    plainIdFallback: bool(v, 'plain-id-fallback', DEFAULTS.plainIdFallback),
    tombstoneSeconds,
    region: spec.region,
    account,
    leadingKeys: v['leading-keys'] === true,
  };
}

function policyText(title: string, actions: ActionReason[], policy: PolicyDocument): string {
  const width = Math.max(...actions.map((a) => a.action.length)) + 11;
  const lines = actions.map((a) => `  ${`dynamodb:${a.action}`.padEnd(width)}${a.why}`);
  return [title, ...lines, JSON.stringify(policy, null, 2)].join('\n');
}

async function runIamPolicy(v: Values): Promise<number> {
  const spec = policySpec(v);
  const only = str(v, 'only');
  if (only !== undefined && only !== 'app' && only !== 'cli')
    throw new UsageError(`--only: expected app or cli, got "${only}"`);
  const policies = policiesFor(spec);
  const notes = [
    ...(spec.region ? [] : ['no --region: the ARNs allow the table in every region (*)']),
    ...(spec.account ? [] : ['no --account: the ARNs allow the table in every account (*)']),
  ];
  for (const note of notes) process.stderr.write(`dynamodb-sessions: note: ${note}\n`);
  if (only) json(policies[only]);
  else if (v.json) json({ command: 'iam-policy', app: policies.app, cli: policies.cli, notes });
  else {
    const index = spec.userIndex ? ` and index "${spec.userIndex}"` : '';
    const keys = spec.leadingKeys ? `, item keys starting with "${spec.prefix}"` : '';
    print(
      `${policyText(`The app's policy (table "${spec.tableName}"${index}${keys}): attach it to the role the app runs under.`, policies.appActions, policies.app)}\n\n` +
        policyText(
          'For the CLI, not the app: create-table and doctor. doctor also probes the actions above: ' +
            "run it under the app's role, or give its role both policies.",
          policies.cliActions,
          policies.cli,
        ),
    );
  }
  return 0;
}

function templateSpec(v: Values): { format: TemplateFormat; output: 'yaml' | 'json'; spec: TemplateSpec } {
  const format = str(v, 'format');
  if (!TEMPLATE_FORMATS.includes(format as TemplateFormat))
    throw new UsageError(
      format === undefined
        ? `--format is required: ${TEMPLATE_FORMATS.join(', ')}`
        : `--format: expected ${TEMPLATE_FORMATS.join(', ')}, got "${format}"`,
    );
  const output = str(v, 'output') ?? 'yaml';
  if (output !== 'yaml' && output !== 'json')
    throw new UsageError(`--output: expected yaml or json, got "${output}"`);
  if (v.output !== undefined && format !== 'cloudformation' && format !== 'sam')
    throw new UsageError('--output is for --format cloudformation and sam');
  const table = tableSpec(v);
  return {
    format: format as TemplateFormat,
    output,
    spec: {
      tableName: table.tableName,
      hashKey: table.hashKey,
      expiresAttribute: table.expiresAttribute,
      userIndex: table.userIndex,
      userIdAttribute: table.userIdAttribute,
      billing: billingOf(v),
      readCapacity: integer(v, 'rcu') ?? DEFAULTS.table.readCapacity,
      writeCapacity: integer(v, 'wcu') ?? DEFAULTS.table.writeCapacity,
      pointInTimeRecovery: v['no-pitr'] !== true,
      deletionProtection: v['no-deletion-protection'] !== true,
    },
  };
}

async function runTemplate(v: Values): Promise<number> {
  const { format, output, spec } = templateSpec(v);
  const text =
    format === 'cdk'
      ? cdkSnippet(spec)
      : format === 'terraform'
        ? terraform(spec)
        : templateText(cloudFormation(spec, format === 'sam'), output);
  if (v.json)
    json({
      command: 'template',
      format,
      ...(format === 'cloudformation' || format === 'sam' ? { output } : {}),
      text,
    });
  else print(text);
  return 0;
}

/** The table's shape, without where it is: the flags of create-table that a template or policy uses. */
const shapeOptions: OptionSpec = Object.fromEntries(
  Object.entries(tableOptions).filter(([flag]) => flag !== 'region' && flag !== 'endpoint'),
);
const shapeFlags = tableFlags
  .filter(([flag]) => !/^--(region|endpoint) /.test(flag))
  .map(([flag, text]): [string, string] =>
    flag === '--user-index' ? [flag, 'the global secondary index for per-user operations'] : [flag, text],
  );
const billingOptions: OptionSpec = {
  billing: { type: 'string' },
  rcu: { type: 'string' },
  wcu: { type: 'string' },
};

const commands: Record<string, Command> = {
  'create-table': {
    summary: 'Create the session table (partition key, TTL, user index); safe to run again',
    usage: 'create-table --table NAME [flags]',
    options: { ...tableOptions, ...billingOptions },
    flags: [
      ...tableFlags,
      ['--billing MODE', 'on-demand (default) or provisioned'],
      ['--rcu N, --wcu N', `provisioned read/write capacity (default ${DEFAULTS.table.readCapacity} each)`],
    ],
    run: runCreateTable,
  },
  doctor: {
    summary: 'Check key schema, TTL, user index, replicas and permissions (with a probe item it removes)',
    usage: 'doctor --table NAME [flags]',
    options: { ...tableOptions, prefix: { type: 'string' } },
    flags: [
      ...tableFlags,
      ['--prefix P', `the store's key prefix, for the probe item's key (default ${DEFAULTS.prefix})`],
    ],
    run: runDoctor,
  },
  cost: {
    summary: 'Estimate the monthly DynamoDB cost of a session table, and what changes it',
    usage: 'cost [flags]',
    options: Object.fromEntries(costFields.map((f) => [kebab(f), { type: 'string' as const }])),
    flags: costFields.map((f) => [
      `--${kebab(f)} ${costHelp[f][0]}`,
      `${costHelp[f][1]} (default ${String(COST_DEFAULTS[f])})`,
    ]),
    run: runCost,
  },
  'iam-policy': {
    summary: "Print the least-privilege IAM policy for the store's options, and the CLI's apart",
    usage: 'iam-policy --table NAME [flags]',
    options: {
      ...shapeOptions,
      ...billingOptions,
      region: { type: 'string' },
      account: { type: 'string' },
      prefix: { type: 'string' },
      'leading-keys': { type: 'boolean' },
      'tombstone-seconds': { type: 'string' },
      'hash-ids': { type: 'string' },
      'plain-id-fallback': { type: 'string' },
      only: { type: 'string' },
    },
    flags: [
      ...shapeFlags,
      ['--region R', "the table's region, in the ARNs (default *)"],
      ['--account ID', "the table's 12-digit account id, in the ARNs (default *)"],
      ['--prefix P', `store option prefix (default ${DEFAULTS.prefix})`],
      ['--leading-keys', 'allow only item keys that start with the prefix (dynamodb:LeadingKeys)'],
      [
        '--tombstone-seconds S',
        `store option tombstoneSeconds; 0 needs DeleteItem (default ${DEFAULTS.tombstoneSeconds})`,
      ],
      ['--hash-ids BOOL', `store option hashIds (default ${DEFAULTS.hashIds})`],
      ['--plain-id-fallback BOOL', `store option plainIdFallback (default ${DEFAULTS.plainIdFallback})`],
      ['--only app|cli', 'print that policy document alone, as JSON'],
      ['--billing, --rcu, --wcu', 'accepted as create-table takes them; they change nothing here'],
    ],
    run: runIamPolicy,
  },
  template: {
    summary: 'Print the table as create-table makes it, for CloudFormation, SAM, the AWS CDK or Terraform',
    usage: 'template --format cloudformation|sam|cdk|terraform --table NAME [flags]',
    options: {
      ...shapeOptions,
      ...billingOptions,
      format: { type: 'string' },
      output: { type: 'string' },
      'no-pitr': { type: 'boolean' },
      'no-deletion-protection': { type: 'boolean' },
    },
    flags: [
      ['--format F', 'cloudformation, sam, cdk (a TypeScript snippet with TableV2) or terraform (required)'],
      ['--output yaml|json', 'CloudFormation and SAM: YAML (default) or JSON'],
      ...shapeFlags,
      ['--billing MODE', 'on-demand (default) or provisioned'],
      ['--rcu N, --wcu N', `provisioned read/write capacity (default ${DEFAULTS.table.readCapacity} each)`],
      ['--no-pitr', 'without point-in-time recovery (on by default)'],
      ['--no-deletion-protection', 'without deletion protection and a retained table (on by default)'],
    ],
    run: runTemplate,
  },
};

function table(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([a]) => a.length)) + 2;
  return rows.map(([a, b]) => `  ${a.padEnd(width)}${b}`).join('\n');
}

function mainHelp(): string {
  return [
    'Usage: dynamodb-sessions <command> [flags]',
    '',
    'Commands:',
    table(Object.entries(commands).map(([n, c]) => [n, c.summary])),
    '',
    'Flags of every command:',
    table(commonFlags),
    '',
    'DynamoDB is reached at --endpoint, else through the AWS SDK default region and credential chain;',
    'DynamoDB Local on a loopback --endpoint needs no AWS credentials (dummy keys are used).',
    'Exit codes: 0 ok, 1 problems found, DynamoDB failed or no credentials/region, 2 bad command line.',
    'Run "dynamodb-sessions <command> --help" for the flags of a command.',
  ].join('\n');
}

function commandHelp(cmd: Command): string {
  return [
    `Usage: dynamodb-sessions ${cmd.usage}`,
    '',
    `${cmd.summary}.`,
    '',
    table([...cmd.flags, ...commonFlags]),
  ].join('\n');
}

/** parseArgs' messages, made short and naming the flag. */
function usageOf(err: unknown, command: string): UsageError {
  const message = err instanceof Error ? err.message : String(err);
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? '';
  const code = (err as { code?: string }).code;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
    return new UsageError(`unknown flag ${quoted} for ${command}`);
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
    return new UsageError(`unexpected argument "${quoted}"`);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = quoted.split(' ')[0] ?? quoted;
    if (message.includes('argument missing')) return new UsageError(`${flag} needs a value`);
    if (message.includes('ambiguous'))
      return new UsageError(`${flag}: write a value that starts with "-" as ${flag}=VALUE`);
  }
  return new UsageError(message);
}

/** `--consistent` alone means `--consistent true`. */
function normalize(args: string[]): string[] {
  return args.flatMap((arg, n) =>
    arg === '--consistent' && (args[n + 1] ?? '--').startsWith('--') ? ['--consistent=true'] : [arg],
  );
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || (first === 'help' && !rest[0])) {
    if (first !== undefined) print(mainHelp());
    else process.stderr.write(`dynamodb-sessions: a command is needed\n\n${mainHelp()}\n`);
    return first === undefined ? 2 : 0;
  }
  const name = first === 'help' ? (rest[0] ?? '') : first;
  const cmd = commands[name];
  if (!cmd) throw new UsageError(`unknown command "${name}" (commands: ${Object.keys(commands).join(', ')})`);
  if (first === 'help') {
    print(commandHelp(cmd));
    return 0;
  }
  let values: Values;
  try {
    values = parseArgs({
      args: normalize(rest),
      options: { ...common, ...cmd.options },
      strict: true,
    }).values;
  } catch (err) {
    const usage = usageOf(err, name);
    usage.command = name;
    throw usage;
  }
  if (values.help) {
    print(commandHelp(cmd));
    return 0;
  }
  try {
    return await cmd.run(values);
  } catch (err) {
    if (err instanceof UsageError) err.command = name;
    throw err;
  }
}

function fail(err: unknown, asJson: boolean): number {
  const usage = err instanceof UsageError;
  const setup = err instanceof SetupError;
  const plain = usage || setup || (err instanceof Error && err.name === 'Error');
  const message = plain && err instanceof Error ? err.message : errorText(err);
  const help = usage
    ? `Run "dynamodb-sessions ${err.command ? `${err.command} ` : ''}--help" for usage.\n`
    : '';
  process.stderr.write(`dynamodb-sessions: ${message}\n${help}`);
  const flag = usage ? /(--[a-z][a-z-]*)/.exec(message)?.[1] : undefined;
  if (asJson)
    json({
      ok: false,
      error: { kind: usage ? 'usage' : setup ? 'setup' : 'failure', message, ...(flag && { flag }) },
    });
  return usage ? 2 : 1;
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = fail(err, argv.includes('--json'));
  },
);

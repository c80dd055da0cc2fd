/**
 * The layout's rules, checked by `npm run lint`: the library (`src/`) knows no framework, no CLI and
 * no adapter; adapters translate framework contracts through the library's public entry and never
 * touch the AWS SDK; the CLI uses the public entry only; and nothing imports in a cycle.
 * @type {import('dependency-cruiser').IConfiguration}
 */
const frameworks =
  '^(express|express-session|fastify|fastify-plugin|@fastify/[^/]+|koa|koa-session|react-router|hono|hono-sessions|@hono/[^/]+)(/|$)';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'Modules import each other in a cycle: move what both need into a third module.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'library-knows-no-framework',
      severity: 'error',
      comment: "src/ is the storage engine: frameworks are the adapters' business.",
      from: { path: '^src/' },
      to: {
        path: frameworks,
        dependencyTypes: ['npm', 'npm-dev', 'npm-peer', 'npm-optional', 'npm-no-pkg', 'npm-unknown'],
      },
    },
    {
      name: 'library-imports-no-cli-or-adapter',
      severity: 'error',
      comment: 'src/ is used by the adapters and the CLI, never the other way round.',
      from: { path: '^src/' },
      to: { path: '^(cli|adapters)/' },
    },
    {
      name: 'adapters-import-no-aws-sdk',
      severity: 'error',
      comment: 'Adapters translate framework contracts; every DynamoDB call goes through the engine.',
      from: { path: '^adapters/' },
      to: { path: '^@aws-sdk/|^@smithy/' },
    },
    {
      name: 'adapters-use-the-public-entry',
      severity: 'error',
      comment: 'Adapters see the library as users do: through src/index.ts.',
      from: { path: '^adapters/' },
      to: { path: '^src/', pathNot: '^src/index\\.ts$' },
    },
    {
      name: 'cli-uses-the-public-entry',
      severity: 'error',
      comment: 'The CLI sees the library as users do: through src/index.ts.',
      from: { path: '^cli/' },
      to: { path: '^(src|adapters)/', pathNot: '^src/index\\.ts$' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};

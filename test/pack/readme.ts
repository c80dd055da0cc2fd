/**
 * What the README tells a new user, read from the README itself: its checked code blocks and its
 * Install section. A code block preceded by `<!-- snippet: PATH -->` must be the file PATH, byte for
 * byte; CI type-checks and runs those files as the README says.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '../..');
export const readme = (): string => readFileSync(resolve(root, 'README.md'), 'utf8');

export interface Snippet {
  /** The file, relative to the repository root. */
  path: string;
  /** The code block's text, up to its closing fence. */
  block: string;
}

/** The README's code blocks marked as checked, in order. */
export function snippets(text: string): Snippet[] {
  const found: Snippet[] = [];
  for (const m of text.matchAll(/<!-- snippet: (\S+) -->\n```\w*\n([\s\S]*?)^```$/gm)) {
    found.push({ path: m[1] ?? '', block: m[2] ?? '' });
  }
  return found;
}

/** The frameworks of the README's apps, by their file's name (`examples/readme/react-router.ts`). */
export const readmeFrameworks = ['express', 'fastify', 'koa', 'react-router', 'hono'];

/** The framework of a README app's file: `examples/readme/react-router.ts` is `react-router`. */
export function frameworkOf(path: string): string {
  return /examples\/readme\/([\w-]+)\.ts$/.exec(path)?.[1] ?? '';
}

/**
 * The packages of the Install section's `npm install` lines, by group: lines under a framework's
 * heading (`# Express`, `# React Router (...)`) belong to that framework; every other line is for
 * every app.
 */
export function installGroups(text: string): { common: string[]; frameworks: Map<string, string[]> } {
  const section = /^## Install\n([\s\S]*?)^## /m.exec(text)?.[1] ?? '';
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const common: string[] = [];
  const frameworks = new Map<string, string[]>();
  let group = common;
  for (const line of block.split('\n')) {
    const heading = /^# ([\w ]+)/.exec(line)?.[1];
    if (heading) {
      const framework = heading.trim().toLowerCase().replace(/ /g, '-');
      group = readmeFrameworks.includes(framework) ? [] : common;
      if (group !== common) frameworks.set(framework, group);
      continue;
    }
    const words = line.split('#')[0]?.trim().split(/\s+/) ?? [];
    if (words[0] !== 'npm' || words[1] !== 'install') continue;
    group.push(...words.slice(2).filter((w) => !w.startsWith('-')));
  }
  return { common, frameworks };
}

/** The repository every absolute link and `package.json` field points to. */
export const repository = 'https://github.com/dynamodb-sessions/dynamodb-sessions';

/** The targets of a Markdown text's links (`[text](target)`), outside code. */
export function links(text: string): string[] {
  const code = /```[\s\S]*?```|`[^`\n]*`/g;
  return [...text.replace(code, '').matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '');
}

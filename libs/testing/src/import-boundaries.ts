import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import ts from 'typescript';

// The workspace's dependency rules, checked on every import under apps/, libs/ and e2e/
// (libs/testing/src/boundaries.spec.ts). Nx tags name the layers; this is what enforces them.

/** Which libs each lib may import (besides itself). `*`: any lib. A lib missing here may import none. */
export const LIB_LAYERS: Readonly<Record<string, readonly string[] | '*'>> = {
  domain: [],
  mapping: ['domain'],
  queue: ['domain'],
  platform: ['domain'],
  persistence: ['domain', 'platform'],
  // The one writer of item state: stores what the domain decides, through the persistence models.
  'sync-state': ['domain', 'platform', 'persistence'],
  testing: '*',
};

/** The lib test files anywhere may import although their layer does not list it. */
const TEST_LIB = 'testing';

export type Project =
  | { kind: 'app'; name: string }
  | { kind: 'lib'; name: string }
  | { kind: 'e2e' }
  | { kind: 'other' };

export interface Violation {
  file: string;
  specifier: string;
  problem: string;
}

/** The project a workspace-relative posix path belongs to. */
export function projectOf(path: string): Project {
  const [top, name] = path.split('/');
  if ((top === 'apps' || top === 'libs') && name && name !== '..') return { kind: top === 'apps' ? 'app' : 'lib', name };
  if (top === 'e2e') return { kind: 'e2e' };
  return { kind: 'other' };
}

function label(project: Project): string {
  return project.kind === 'app' || project.kind === 'lib' ? `${project.kind} ${project.name}` : project.kind;
}

function sameProject(a: Project, b: Project): boolean {
  if (a.kind !== b.kind) return false;
  return a.kind === 'app' || a.kind === 'lib' ? a.name === (b as { name: string }).name : true;
}

/** End-to-end tests drive the apps as a user would, so they may import apps. */
export function isEndToEnd(file: string): boolean {
  return file.startsWith('e2e/') || file.includes('/e2e/') || file.endsWith('.e2e.spec.ts') || /^apps\/[^/]+-e2e\//.test(file);
}

export function isTestFile(file: string): boolean {
  return /\.(spec|test)\.ts$/.test(file) || file.endsWith('.test-helper.ts') || isEndToEnd(file);
}

/** Maps `@music/<lib>` aliases to lib names, from tsconfig `paths` (`libs/<lib>/src/index.ts`). */
export function aliasesFrom(paths: Record<string, string[]>): Map<string, string> {
  const aliases = new Map<string, string>();
  for (const [alias, targets] of Object.entries(paths)) {
    const target = projectOf(targets[0] ?? '');
    if (target.kind === 'lib') aliases.set(alias, target.name);
  }
  return aliases;
}

/** Why `from` may not depend on `to`, or undefined when it may. */
function dependencyProblem(file: string, from: Project, to: Project): string | undefined {
  if (sameProject(from, to)) return undefined;
  if (to.kind === 'app') {
    if (isEndToEnd(file)) return undefined;
    if (from.kind === 'app') return `an app never imports another app (${from.name} -> ${to.name})`;
    if (from.kind === 'lib') return `a lib never imports an app (${from.name} -> ${to.name})`;
    return `${label(from)} imports ${label(to)}`;
  }
  if (to.kind === 'lib' && from.kind === 'lib') {
    const allowed = LIB_LAYERS[from.name];
    if (allowed === undefined) return `lib ${from.name} has no layering rule (add it to LIB_LAYERS in libs/testing/src/import-boundaries.ts)`;
    if (allowed === '*' || allowed.includes(to.name)) return undefined;
    if (to.name === TEST_LIB && isTestFile(file)) return undefined;
    return `lib ${from.name} may import ${allowed.length ? allowed.join(', ') : 'no lib of ours'}, not ${to.name}`;
  }
  return undefined;
}

/** Checks one import of `file` (workspace-relative, posix). */
export function checkImport(file: string, specifier: string, aliases: Map<string, string>): Violation | undefined {
  const from = projectOf(file);
  const violation = (problem: string): Violation => ({ file, specifier, problem });

  if (specifier.startsWith('@music/')) {
    const [scope, name, ...rest] = specifier.split('/');
    const lib = aliases.get(`${scope}/${name}`);
    if (!lib) return violation(`unknown alias (tsconfig.base.json paths has no ${scope}/${name})`);
    if (rest.length > 0) return violation(`deep import: a lib's only door is its src/index.ts (import '${scope}/${name}')`);
    const problem = dependencyProblem(file, from, { kind: 'lib', name: lib });
    return problem ? violation(problem) : undefined;
  }

  const relative = specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..';
  // tsconfig's baseUrl also resolves 'libs/...' and 'apps/...' from the workspace root.
  const fromRoot = /^(apps|libs|e2e)\//.test(specifier);
  if (!relative && !fromRoot) return undefined; // a package

  const target = relative ? posix.normalize(posix.join(posix.dirname(file), specifier)) : posix.normalize(specifier);
  const to = projectOf(target);
  const problem = dependencyProblem(file, from, to);
  if (problem) return violation(problem);
  if (sameProject(from, to)) return fromRoot ? violation('import by workspace path: use a relative path inside a project') : undefined;
  if (to.kind === 'lib') {
    const alias = [...aliases].find(([, lib]) => lib === to.name)?.[0] ?? `the ${to.name} alias`;
    return violation(`${relative ? 'relative import climbs out of its project' : 'import by workspace path'}: use '${alias}'`);
  }
  if (to.kind === 'app' && isEndToEnd(file)) return undefined;
  return violation(`import leaves ${label(from)} for ${target}`);
}

/** Every module specifier a TypeScript source imports, re-exports, requires or dynamically imports. */
export function importsOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

function tsFiles(root: string, dir: string, out: string[]): string[] {
  let entries;
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) tsFiles(root, path, out);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Scans apps/, libs/ and e2e/ under `root`; returns the files seen and every violation. */
export function scanWorkspace(root: string): { files: string[]; imports: number; violations: Violation[] } {
  const configPath = join(root, 'tsconfig.base.json');
  // tsconfig files may hold comments and trailing commas: let TypeScript read it.
  const tsconfig = ts.parseConfigFileTextToJson(configPath, readFileSync(configPath, 'utf8')).config as { compilerOptions: { paths: Record<string, string[]> } };
  const aliases = aliasesFrom(tsconfig.compilerOptions.paths);
  const files = ['apps', 'libs', 'e2e'].flatMap((dir) => tsFiles(root, dir, []));
  const violations: Violation[] = [];
  let imports = 0;
  for (const file of files) {
    for (const specifier of importsOf(readFileSync(join(root, file), 'utf8'))) {
      imports += 1;
      const v = checkImport(file, specifier, aliases);
      if (v) violations.push(v);
    }
  }
  return { files, imports, violations };
}

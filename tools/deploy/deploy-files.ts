// Readers for the deployment files, shared by their tests (tools/deploy/*.spec.ts).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export const WORKSPACE = path.resolve(__dirname, '..', '..');

export const read = (file: string): string => readFileSync(path.join(WORKSPACE, file), 'utf8');

/** One instruction of a Dockerfile: `RUN`, its arguments (continuation lines joined), and its stage. */
export interface Instruction {
  keyword: string;
  args: string;
  stage: string | null;
}

/** The instructions of a Dockerfile in order, comments dropped, each tagged with its stage name. */
export function dockerInstructions(text: string): Instruction[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(current + line);
    current = '';
  }
  let stage: string | null = null;
  return logical.map((line) => {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (keyword.toUpperCase() === 'FROM') stage = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? null;
    return { keyword: keyword.toUpperCase(), args, stage };
  });
}

/** `ARG NAME=value` defaults declared before the first FROM. */
export function globalArgs(instructions: Instruction[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (const i of instructions) {
    if (i.keyword === 'FROM') break;
    const match = /^(\w+)=(.*)$/.exec(i.args);
    if (i.keyword === 'ARG' && match) args[match[1] as string] = match[2] as string;
  }
  return args;
}

/** An image reference pinned by an exact version tag (x.y.z) and a sha256 digest. */
export const PINNED_IMAGE = /^[a-z0-9./-]+:\d+\.\d+\.\d+[\w.-]*@sha256:[0-9a-f]{64}$/;

/** The Node.js version of the image's base (`node:26.10.0-trixie-slim@sha256:...` -> 26.10.0). */
export function imageNodeVersion(): string {
  const image = globalArgs(dockerInstructions(read('Dockerfile')))['NODE_IMAGE'] ?? '';
  const version = /^node:(\d+\.\d+\.\d+)-/.exec(image)?.[1];
  if (!version) throw new Error(`Dockerfile: NODE_IMAGE is not node:<x.y.z>-...: ${image}`);
  return version;
}

/** A compose file, YAML merge keys (`<<: *app`) applied. */
export function composeFile(file: string): { services: Record<string, ComposeService>; volumes?: Record<string, unknown> } {
  return parse(read(file), { merge: true }) as { services: Record<string, ComposeService> };
}

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  profiles?: string[];
  container_name?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  volumes?: string[];
}

/** Every app of the workspace: apps/<app>/src/main.ts. */
export function workspaceApps(): string[] {
  return readdirSync(path.join(WORKSPACE, 'apps'))
    .filter((app) => existsSync(path.join(WORKSPACE, 'apps', app, 'src', 'main.ts')))
    .sort();
}

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

export const APPS = ['music-config', 'music-auth', 'music-inventory', 'music-integration', 'music-faker'] as const;
export type AppName = (typeof APPS)[number];

const ROOT = path.resolve(__dirname, '..');

/** A free loopback port (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RunningApp {
  name: AppName;
  port: number;
  url: string;
  child: ChildProcess;
  output: string[];
}

export interface Stack {
  apps: Record<AppName, RunningApp>;
  url: (app: AppName) => string;
  /** Starts (or restarts) one app with the same settings. */
  start: (app: AppName, extraEnv?: Record<string, string>) => Promise<RunningApp>;
  kill: (app: AppName, signal?: NodeJS.Signals) => Promise<void>;
  stop: () => Promise<void>;
}

/**
 * Starts the five apps as separate processes, the way users run them (`node --import tsx
 * apps/<app>/src/main.ts`), each on a free port, against the given store and Redis, and waits
 * until each answers /health/ready (the faker: /health/live).
 */
export async function startStack(env: Record<string, string>, perApp: Partial<Record<AppName, Record<string, string>>> = {}): Promise<Stack> {
  const ports = {} as Record<AppName, number>;
  for (const app of APPS) ports[app] = await freePort();
  const apps = {} as Record<AppName, RunningApp>;

  const start = async (name: AppName, extraEnv: Record<string, string> = {}): Promise<RunningApp> => {
    const output: string[] = [];
    const child = spawn(process.execPath, ['--enable-source-maps', '--import', 'tsx', `apps/${name}/src/main.ts`], {
      cwd: ROOT,
      env: { ...process.env, ...env, ...perApp[name], ...extraEnv, PORT: String(ports[name]), LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer): void => {
      output.push(chunk.toString('utf8'));
      if (output.length > 400) output.splice(0, output.length - 400);
      if (process.env['E2E_LOG']) process.stderr.write(`[${name}] ${chunk.toString('utf8')}`);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const running: RunningApp = { name, port: ports[name], url: `http://127.0.0.1:${ports[name]}`, child, output };
    apps[name] = running;
    await waitReady(running);
    return running;
  };

  const kill = async (name: AppName, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const app = apps[name];
    if (!app || app.child.exitCode !== null || app.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => app.child.once('exit', () => resolve()));
    app.child.kill(signal);
    const timer = setTimeout(() => app.child.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await Promise.all(APPS.map((name) => start(name)));
  } catch (error) {
    await Promise.all(APPS.map((name) => kill(name, 'SIGKILL')));
    throw error;
  }
  return {
    apps,
    url: (name) => apps[name].url,
    start,
    kill,
    stop: async () => void (await Promise.all(APPS.map((name) => kill(name)))),
  };
}

async function waitReady(app: RunningApp, timeoutMs = 60000): Promise<void> {
  const probe = app.name === 'music-faker' ? '/health/live' : '/health/ready';
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (app.child.exitCode !== null) throw new Error(`${app.name} exited with ${app.child.exitCode}:\n${app.output.join('')}`);
    try {
      const res = await fetch(`${app.url}${probe}`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${app.name} did not become ready in ${timeoutMs} ms:\n${app.output.join('')}`);
}

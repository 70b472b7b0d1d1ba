import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '@music/testing';
import path from 'node:path';
import { builtAppsDir } from './built-apps';

export const APPS = ['music-config', 'music-auth', 'music-inventory', 'music-integration', 'music-faker'] as const;
export type AppName = (typeof APPS)[number];

const ROOT = path.resolve(__dirname, '..');

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
 * How the apps are started: `source` runs the TypeScript through tsx, as `npm start` does; `built`
 * runs the JavaScript of the production build (`npm run build`, as the image does), built for this
 * test process (e2e/built-apps.ts). `E2E_APPS=built` makes `built` the default for every e2e test.
 */
export type AppRuntime = 'source' | 'built';

export interface StackOptions {
  runtime?: AppRuntime;
  /** Start only these apps (default: all of them). */
  only?: readonly AppName[];
}

/** The runtime a test gets when it does not choose one. */
export function defaultRuntime(): AppRuntime {
  return process.env['E2E_APPS'] === 'built' ? 'built' : 'source';
}

async function commandFor(name: AppName, runtime: AppRuntime): Promise<string[]> {
  if (runtime === 'built') return ['--enable-source-maps', path.join(await builtAppsDir(), 'apps', name, 'src', 'main.js')];
  return ['--enable-source-maps', '--import', 'tsx', `apps/${name}/src/main.ts`];
}

export interface LaunchOptions {
  name: AppName;
  port: number;
  env: Record<string, string | undefined>;
  runtime?: AppRuntime;
}

/** Starts one app process on `port` and waits until it is ready (the faker: live). */
export async function launchApp(options: LaunchOptions): Promise<RunningApp> {
  const { name, port } = options;
  const output: string[] = [];
  const child = spawn(process.execPath, await commandFor(name, options.runtime ?? defaultRuntime()), {
    cwd: ROOT,
    env: { ...process.env, ...options.env, PORT: String(port), LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer): void => {
    output.push(chunk.toString('utf8'));
    if (output.length > 400) output.splice(0, output.length - 400);
    if (process.env['E2E_LOG']) process.stderr.write(`[${name}:${port}] ${chunk.toString('utf8')}`);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const running: RunningApp = { name, port, url: `http://127.0.0.1:${port}`, child, output };
  try {
    await waitReady(running);
  } catch (error) {
    await stopApp(running, 'SIGKILL');
    throw error;
  }
  return running;
}

/** Stops one app process (SIGKILL after 10 s) and waits for it to exit. */
export async function stopApp(app: RunningApp | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!app || app.child.exitCode !== null || app.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => app.child.once('exit', () => resolve()));
  app.child.kill(signal);
  const timer = setTimeout(() => app.child.kill('SIGKILL'), 10000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts the five apps as separate processes, the way users run them (from source, as `npm start`
 * does, or the production build: see AppRuntime), each on a free port, against the given store and
 * Redis, and waits until each answers /health/ready (the faker: /health/live).
 */
export async function startStack(
  env: Record<string, string>,
  perApp: Partial<Record<AppName, Record<string, string>>> = {},
  options: StackOptions = {},
): Promise<Stack> {
  const ports = {} as Record<AppName, number>;
  // Each free port is bound and released at once, so the system may hand the same one out again:
  // every app of the stack gets a port no other app of it has (two apps given one port, one bound
  // to loopback and the other to every interface, would both start, and the loopback one would
  // answer the other's URL).
  const given = new Set<number>();
  const unusedPort = async (): Promise<number> => {
    for (;;) {
      const port = await freePort();
      if (given.has(port)) continue;
      given.add(port);
      return port;
    }
  };
  for (const app of APPS) ports[app] = await unusedPort();
  const apps = {} as Record<AppName, RunningApp>;

  const start = async (name: AppName, extraEnv: Record<string, string> = {}): Promise<RunningApp> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const running = await launchApp({ name, port: ports[name], env: { ...env, ...perApp[name], ...extraEnv }, ...(options.runtime ? { runtime: options.runtime } : {}) });
        apps[name] = running;
        return running;
      } catch (error) {
        // A port found free can be taken before the app binds it: outgoing connections draw their
        // local ports from the same range (seen with apps binding every interface). Another port, then.
        if (attempt >= 3 || !/already in use/.test((error as Error).message)) throw error;
        ports[name] = await unusedPort();
      }
    }
  };

  const kill = (name: AppName, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => stopApp(apps[name], signal);

  const only = options.only ?? APPS;
  // Every start settles before a failure is reported, so no app is left running behind it.
  const started = await Promise.allSettled(only.map((name) => start(name)));
  const failure = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) {
    await Promise.all(only.map((name) => kill(name, 'SIGKILL')));
    throw failure.reason;
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

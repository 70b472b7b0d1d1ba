import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ChildRole, FromChild, ToChild } from './protocol';

const ROOT = path.resolve(__dirname, '..');

/** This run's keys, as production needs them: the token key pair and the secrets key. */
export interface BenchKeys {
  jwtPrivateKey: string;
  jwtPublicKey: string;
  /** SECRETS_KEYS: `bench:<base64 of 32 bytes>`. */
  secretsKeys: string;
}

/** Fresh keys for one run. */
export function benchKeys(): BenchKeys {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    jwtPrivateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    jwtPublicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    secretsKeys: `bench:${randomBytes(32).toString('base64')}`,
  };
}

/** Settings every child gets: where the store and Redis are, and this run's names. */
export interface ChildSettings {
  mongoUrl: string;
  dbName: string;
  redisUrl: string;
  prefix: string;
  keys: BenchKeys;
  /** Extra app settings (e.g. OUTPUT_CONCURRENCY). */
  appEnv?: Record<string, string>;
  extraEnv?: Record<string, string>;
  /** Write a V8 CPU profile of the child into this directory. */
  cpuProfDir?: string;
  /** The built child (`buildBenchWorker`): run as production runs an app, `node main.js`. */
  workerScript: string;
}

/** The heap limit every app starts with when HEAP_LIMIT_MB is unset (docker/run-app.sh, scripts/stack.sh). */
export const DEFAULT_HEAP_LIMIT_MB = 512;

/** A container's memory limit in bytes (cgroup v2, then v1), or null when there is none. */
function containerMemoryLimit(read: (file: string) => string | null): number | null {
  const raw = (read('/sys/fs/cgroup/memory.max') ?? read('/sys/fs/cgroup/memory/memory.limit_in_bytes') ?? '').trim();
  // v1 says "no limit" with a huge number.
  return /^\d{1,15}$/.test(raw) ? Number(raw) : null;
}

const readIfThere = (file: string): string | null => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};

/**
 * The children start as the image starts an app (docker/run-app.sh): with the V8 heap's limit of
 * HEAP_LIMIT_MB; unset, 512, or Node's own sizing in a container with a memory limit; none for 0
 * or when NODE_OPTIONS sets one (`HEAP_LIMIT_MB=0 npm run bench -- --only memory` measures
 * Node's own sizing).
 */
export function heapLimitArgs(env: NodeJS.ProcessEnv, read: (file: string) => string | null = readIfThere): string[] {
  if (/max[-_]old[-_]space[-_]size/.test(env['NODE_OPTIONS'] ?? '')) return [];
  const set = env['HEAP_LIMIT_MB'];
  if (set) {
    if (!/^\d{1,7}$/.test(set)) throw new Error(`HEAP_LIMIT_MB must be a whole number of MB, not ${set}`);
    return set === '0' ? [] : [`--max-old-space-size=${Number(set)}`];
  }
  return containerMemoryLimit(read) === null ? [`--max-old-space-size=${DEFAULT_HEAP_LIMIT_MB}`] : [];
}

const live = new Set<ChildProcess>();

/** Kills every child still running (on Ctrl-C, or a part that failed half-way). */
export function killAllChildren(): void {
  for (const proc of live) proc.kill('SIGKILL');
}

/** A child process of the benchmark, spoken to over IPC. */
export class Child {
  private readonly inbox: FromChild[] = [];
  private readonly waiting: Array<{ type: FromChild['type']; resolve: (m: FromChild) => void; reject: (e: Error) => void }> = [];
  private exited: Error | null = null;
  readonly output: string[] = [];

  private constructor(
    readonly role: ChildRole,
    readonly process: ChildProcess,
  ) {
    live.add(process);
    process.on('message', (m: FromChild) => this.deliver(m));
    process.on('exit', (code, signal) => {
      live.delete(process);
      this.exited = new Error(`${role} child exited (${code ?? signal}); last output:\n${this.output.slice(-20).join('')}`);
      for (const w of this.waiting.splice(0)) w.reject(this.exited);
    });
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  static async start(role: ChildRole, settings: ChildSettings, timeoutMs = 60_000): Promise<{ child: Child; ready: Extract<FromChild, { type: 'ready' }> }> {
    const args = ['--enable-source-maps', ...heapLimitArgs(process.env)];
    if (settings.cpuProfDir) args.push('--cpu-prof', `--cpu-prof-dir=${settings.cpuProfDir}`, `--cpu-prof-name=${role}-${Date.now()}.cpuprofile`);
    const proc = spawn(process.execPath, [...args, settings.workerScript, role], {
      cwd: ROOT,
      env: {
        ...process.env,
        BENCH_MONGO_URL: settings.mongoUrl,
        BENCH_DB: settings.dbName,
        BENCH_REDIS_URL: settings.redisUrl,
        BENCH_PREFIX: settings.prefix,
        BENCH_JWT_PUBLIC_KEYS: settings.keys.jwtPublicKey,
        BENCH_SECRETS_KEYS: settings.keys.secretsKeys,
        BENCH_APP_ENV: JSON.stringify(settings.appEnv ?? {}),
        ...settings.extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const child = new Child(role, proc);
    const keep = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      if (process.env['BENCH_LOG']) process.stderr.write(`[${role}] ${text}`);
      // The apps log a line per delivery at info: keep a short tail only.
      child.output.push(text.length > 2000 ? text.slice(-2000) : text);
      if (child.output.length > 50) child.output.splice(0, child.output.length - 50);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const ready = (await child.next('ready', timeoutMs)) as Extract<FromChild, { type: 'ready' }>;
    return { child, ready };
  }

  private deliver(message: FromChild): void {
    if (message.type === 'error') {
      const error = new Error(`${this.role} child failed: ${message.message}`);
      for (const w of this.waiting.splice(0)) w.reject(error);
      return;
    }
    const index = this.waiting.findIndex((w) => w.type === message.type);
    if (index >= 0) {
      const [w] = this.waiting.splice(index, 1);
      w?.resolve(message);
    } else {
      this.inbox.push(message);
    }
  }

  /** The next message of this type (one already received, or the coming one). */
  next<T extends FromChild['type']>(type: T, timeoutMs: number): Promise<Extract<FromChild, { type: T }>> {
    const index = this.inbox.findIndex((m) => m.type === type);
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0] as Extract<FromChild, { type: T }>);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.findIndex((w) => w.resolve === done);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new Error(`${this.role} child: no "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (m: FromChild): void => {
        clearTimeout(timer);
        resolve(m as Extract<FromChild, { type: T }>);
      };
      this.waiting.push({
        type,
        resolve: done,
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  send(message: ToChild): void {
    this.process.send(message);
  }

  /** Kills the child at once (a poll cannot be cancelled otherwise). */
  async kill(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.process.kill('SIGKILL');
    await exited;
  }

  /** Asks the child to close its workers and connections and exit; kills it if it does not. */
  async stop(timeoutMs = 30_000): Promise<Extract<FromChild, { type: 'stopped' }> | null> {
    if (this.exited) return null;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    let stopped: Extract<FromChild, { type: 'stopped' }> | null = null;
    try {
      this.send({ type: 'stop' });
      stopped = await this.next('stopped', timeoutMs);
    } catch {
      this.process.kill('SIGKILL');
    }
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    return stopped;
  }
}

/** Resident set size now and at its peak (VmHWM), in MB, from /proc (Linux). */
export function rssOf(pid: number): { rssMb: number; peakMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** The machine's CPU time counters (/proc/stat: busy and total jiffies over every core), or null off Linux. */
export function machineCpu(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((sum, v) => sum + v, 0);
    // idle and iowait are the idle fields.
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** The share of the machine's CPU (every core) used between two readings of machineCpu, 0 to 1. */
export function machineBusy(from: ReturnType<typeof machineCpu>, to: ReturnType<typeof machineCpu>): number {
  if (!from || !to || to.total <= from.total) return NaN;
  return (to.busy - from.busy) / (to.total - from.total);
}

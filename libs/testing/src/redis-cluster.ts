import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A Redis Cluster of real redis-server processes on loopback, for tests. */
export interface LocalRedisCluster {
  /** Seed URLs, comma-separated, as REDIS_URL takes them with REDIS_CLUSTER=true. */
  url: string;
  ports: number[];
  /** Stops every node and removes their files. */
  stop: () => Promise<void>;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port that is free, and whose cluster bus port (port + 10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    if (taken.has(port)) continue;
    if ((await portFree(port)) && (await portFree(port + 10000))) return port;
  }
  throw new Error('no free port pair for a Redis Cluster node');
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} within ${timeoutMs} ms`);
}

const cli = (port: number, ...args: string[]): Promise<string> =>
  run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10000 }).then((r) => r.stdout);

/**
 * Starts `masters` redis-server processes in cluster mode on loopback (no replicas, nothing kept
 * on disk beyond the run), joins them into one cluster with every slot assigned, and waits until
 * each node reports `cluster_state:ok`. Needs Debian's redis-server and redis-cli (Redis 7).
 */
export async function startRedisCluster(masters = 3, timeoutMs = 20000): Promise<LocalRedisCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'redis-cluster-'));
  const ports: number[] = [];
  const nodes: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      nodes.map(
        (node) =>
          new Promise<void>((resolve) => {
            if (node.exitCode !== null || node.signalCode !== null) return resolve();
            node.once('exit', () => resolve());
            node.kill('SIGKILL');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < masters; i++) {
      const port = await clusterPort(new Set(ports));
      ports.push(port);
      const node = spawn(
        'redis-server',
        [
          '--bind', '127.0.0.1', '--port', String(port), '--cluster-enabled', 'yes',
          // A generous node timeout and partial coverage: on a busy test machine a node starved of
          // CPU for a few seconds must not be voted down and take its slots offline.
          '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '15000', '--cluster-require-full-coverage', 'no',
          '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no',
        ],
        { stdio: 'ignore' },
      );
      nodes.push(node);
    }
    for (const port of ports) await until(async () => (await cli(port, 'ping')).trim() === 'PONG', `cluster node ${port} did not answer`, timeoutMs);
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: timeoutMs });
    for (const port of ports) await until(async () => (await cli(port, 'cluster', 'info')).includes('cluster_state:ok'), `cluster node ${port} did not report cluster_state:ok`, timeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: ports.map((p) => `redis://127.0.0.1:${p}`).join(','), ports, stop };
}

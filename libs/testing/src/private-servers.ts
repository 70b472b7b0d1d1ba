import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './test-env';

// A Redis or a FerretDB of a test's own, on a free loopback port, that the test may SIGKILL and
// start again on the same port (FerretDB on the same SQLite directory): outage and restart tests.
// The shared Redis (6379) and the suite's test store are never touched: other test files use them
// at the same time. The FerretDB binary is the one scripts/services.sh builds and caches.

const FERRETDB_BIN = process.env['FERRETDB_BIN'] || join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'music-sync', 'ferretdb-v1.24.2');

// Ports below the kernel's ephemeral range (32768+): an outgoing connection can never take ours
// between killing a server and starting it again on the same port.
const PORT_RANGE = { from: 20000, to: 32000 };

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function freeRestartablePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if (await portIsFree(port)) return port;
  }
  throw new Error(`no free port between ${PORT_RANGE.from} and ${PORT_RANGE.to}`);
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A server process the test owns: started, SIGKILLed and started again with the same arguments. */
export class PrivateServer {
  private child: ChildProcess | null = null;
  private stderr = '';
  private constructor(
    readonly name: 'redis' | 'ferretdb',
    readonly port: number,
    private readonly command: string,
    private readonly args: string[],
    private readonly cleanup: () => void = () => undefined,
  ) {}

  /** Redis without persistence: a restart comes back empty, as the local stack's Redis does. */
  static redis(): Promise<PrivateServer> {
    return PrivateServer.launch((port) => new PrivateServer('redis', port, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']));
  }

  /** FerretDB on SQLite in a temp directory that survives its restarts. */
  static ferretdb(): Promise<PrivateServer> {
    if (!existsSync(FERRETDB_BIN)) throw new Error(`FerretDB binary not found at ${FERRETDB_BIN}: run scripts/test.sh once (it builds it) or set FERRETDB_BIN`);
    return PrivateServer.launch((port) => {
      const dir = mkdtempSync(join(tmpdir(), 'private-store-'));
      const args = ['--handler=sqlite', `--sqlite-url=file:${dir}/`, `--listen-addr=127.0.0.1:${port}`, '--telemetry=disable', '--state-dir=-', '--debug-addr=-', '--log-level=warn'];
      return new PrivateServer('ferretdb', port, FERRETDB_BIN, args, () => rmSync(dir, { recursive: true, force: true }));
    });
  }

  /** Another process may bind the port between the check and the server's start: try another one. */
  private static async launch(make: (port: number) => PrivateServer): Promise<PrivateServer> {
    for (let attempt = 1; ; attempt++) {
      const server = make(await freeRestartablePort());
      try {
        await server.start();
        return server;
      } catch (e) {
        await server.stop();
        if (attempt >= 3) throw e;
      }
    }
  }

  get url(): string {
    return this.name === 'redis' ? `redis://127.0.0.1:${this.port}` : `mongodb://127.0.0.1:${this.port}/`;
  }

  async start(): Promise<void> {
    const child = spawn(this.command, this.args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-2000)));
    await eventually(async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${this.name} exited at start on port ${this.port} (${String(child.exitCode ?? child.signalCode)}): ${this.stderr.trim()}`);
      return answers(this.port);
    }, `${this.name} listening on ${this.port}`, 20_000, 100);
  }

  /** SIGKILL: no shutdown, no flush. Resolves once the process is gone and the port refuses. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
    await eventually(async () => !(await answers(this.port)), `${this.name} to stop answering`, 5000, 50);
  }

  async stop(): Promise<void> {
    await this.kill();
    this.cleanup();
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@music/testing';
import { freePort } from '../stack-processes';

// A Redis and a FerretDB of the test's own, on free loopback ports, that the test may SIGKILL and
// start again on the same port (FerretDB on the same SQLite directory). The shared Redis (6379) and
// test store (27018) are never touched: other test files use them at the same time.

const FERRETDB_BIN = process.env['FERRETDB_BIN'] || join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'music-sync', 'ferretdb-v1.24.2');

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
  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly command: string,
    private readonly args: string[],
    private readonly cleanup: () => void = () => undefined,
  ) {}

  /** Redis without persistence: a restart comes back empty, as the local stack's Redis does. */
  static async redis(): Promise<PrivateServer> {
    const port = await freePort();
    const server = new PrivateServer('redis', port, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    await server.start();
    return server;
  }

  /** FerretDB on SQLite in a temp directory that survives its restarts. */
  static async ferretdb(): Promise<PrivateServer> {
    if (!existsSync(FERRETDB_BIN)) throw new Error(`FerretDB binary not found at ${FERRETDB_BIN}: run scripts/test.sh once (it builds it) or set FERRETDB_BIN`);
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'reliability-store-'));
    const args = ['--handler=sqlite', `--sqlite-url=file:${dir}/`, `--listen-addr=127.0.0.1:${port}`, '--telemetry=disable', '--state-dir=-', '--debug-addr=-', '--log-level=warn'];
    const server = new PrivateServer('ferretdb', port, FERRETDB_BIN, args, () => rmSync(dir, { recursive: true, force: true }));
    await server.start();
    return server;
  }

  get url(): string {
    return this.name === 'redis' ? `redis://127.0.0.1:${this.port}` : `mongodb://127.0.0.1:${this.port}/`;
  }

  async start(): Promise<void> {
    const child = spawn(this.command, this.args, { stdio: 'ignore' });
    this.child = child;
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`${this.name} exited at start (code ${String(child.exitCode)})`);
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

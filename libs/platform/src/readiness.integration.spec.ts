import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import type { Connection } from 'mongoose';
import { eventually, testLogger, testUrls, uniqueName } from '@music/testing';
import { createHttpApp } from './http-app';
import { connectMongo, mongoHealthCheck } from './mongo';
import { createRedis, redisHealthCheck, type RedisClient } from './redis';

// Readiness must follow the store through an outage and back, without rebuilding the app: this
// test runs a FerretDB of its own (the shared test store must not be killed), found the way
// scripts/services.sh finds it.
const FERRETDB_BIN =
  process.env['FERRETDB_BIN'] || join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'music-sync', 'ferretdb-v1.24.2');

// Ports below the kernel's ephemeral range (32768+ here): an outgoing connection can never take
// ours between killing FerretDB and restarting it on the same port.
const PORT_RANGE = { from: 20000, to: 32000 };

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
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

/** Starts FerretDB (SQLite backend in `dataDir`) on `port` and resolves once it accepts connections. */
async function startFerretDb(port: number, dataDir: string): Promise<ChildProcess> {
  const child = spawn(
    FERRETDB_BIN,
    [
      '--handler=sqlite',
      `--sqlite-url=file:${dataDir}/`,
      `--listen-addr=127.0.0.1:${port}`,
      '--telemetry=disable',
      '--state-dir=-',
      '--debug-addr=-',
      '--log-level=error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const deadline = Date.now() + 20000;
  while (!(await answers(port))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`FerretDB exited at start on port ${port} (${String(child.exitCode ?? child.signalCode)}): ${stderr.trim()}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`FerretDB did not listen on ${port} within 20 s: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return child;
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('readiness through a store outage', () => {
  let dataDir: string;
  let port: number;
  let ferret: ChildProcess | undefined;
  let mongo: Connection | undefined;
  let redis: RedisClient | undefined;
  let app: Express;

  beforeAll(async () => {
    if (!existsSync(FERRETDB_BIN)) {
      throw new Error(`FerretDB binary not found at ${FERRETDB_BIN}: run scripts/test.sh once (it builds it) or set FERRETDB_BIN`);
    }
    dataDir = mkdtempSync(join(tmpdir(), 'readiness-'));
    // Another process may bind the port between our check and FerretDB's: try another one.
    for (let attempt = 1; !ferret; attempt++) {
      port = await freePort();
      ferret = await startFerretDb(port, dataDir).catch((e: unknown) => {
        if (attempt >= 3) throw e;
        return undefined;
      });
    }
    const logger = testLogger('readiness');
    mongo = await connectMongo({ url: `mongodb://127.0.0.1:${port}/`, dbName: uniqueName('readiness'), logger });
    redis = createRedis(testUrls().redisUrl, 'producer', logger);
    app = createHttpApp({ logger, healthChecks: [mongoHealthCheck(mongo), redisHealthCheck(redis)], routes: () => undefined });
    // A fail-fast client refuses commands until its first connection is up (readiness says so too).
    const client = redis;
    await eventually(async () => client.status === 'ready', 'the Redis client to connect');
  });

  afterAll(async () => {
    await mongo?.close(true).catch(() => undefined);
    redis?.disconnect();
    if (ferret) await kill(ferret);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('is ready, answers 503 while the store is down, and is ready again once it is back', async () => {
    const before = await request(app).get('/health/ready');
    expect(before.body).toEqual({ status: 'ready', checks: { mongo: 'up', redis: 'up' } });
    expect(before.status).toBe(200);

    await kill(ferret!);
    const down = await eventually(async () => {
      const res = await request(app).get('/health/ready');
      return res.status === 503 ? res : undefined;
    }, '/health/ready to answer 503 after the store died', 10000, 200);
    expect(down.body).toMatchObject({ status: 'unavailable', checks: { mongo: expect.stringMatching(/^down: /), redis: 'up' } });
    // Liveness is about the process, not its stores: a load balancer must not restart it for this.
    expect((await request(app).get('/health/live')).status).toBe(200);

    ferret = await startFerretDb(port, dataDir);
    const back = await eventually(async () => {
      const res = await request(app).get('/health/ready');
      return res.status === 200 ? res : undefined;
    }, '/health/ready to answer 200 once the store is back', 20000, 200);
    expect(back.body).toEqual({ status: 'ready', checks: { mongo: 'up', redis: 'up' } });

    // Not only the ping: the same connection reads and writes again.
    const items = mongo!.collection('readiness_probe');
    await items.insertOne({ _id: 'after-outage' } as never);
    expect(await items.countDocuments({ _id: 'after-outage' } as never)).toBe(1);
  });
});

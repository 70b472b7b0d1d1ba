import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { freePort, testUrls, uniqueName } from '@music/testing';

// What a new user meets when an app cannot start: the process exits non-zero (so `npx nx serve`,
// scripts and supervisors see the failure) with one line that names what to fix.

jest.setTimeout(90_000);

const ROOT = path.resolve(__dirname, '..', '..');

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} still running after ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const runApp = (app: string, env: Record<string, string>) => run(process.execPath, ['--import', 'tsx', `apps/${app}/src/main.ts`], { LOG_LEVEL: 'error', ...env });

/** Holds a loopback port, as another program would. */
async function occupy(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '::', resolve));
  return server;
}

describe('an app that cannot start says why in one line and exits non-zero', () => {
  it('the store unreachable: the line names MONGO_URL (and hides its password)', async () => {
    const closed = await freePort();
    const exit = await runApp('music-config', { MONGO_URL: `mongodb://someone:hunter2@127.0.0.1:${closed}/`, PORT: '0' });
    expect(exit.code).toBe(1);
    const lines = exit.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^music-config: cannot reach the store at MONGO_URL=mongodb://someone:\\*\\*\\*@127\\.0\\.0\\.1:${closed}/ .*set MONGO_URL$`));
    expect(exit.stderr).not.toContain('hunter2');
  });

  it('a bad setting: the line names it', async () => {
    const exit = await runApp('music-faker', { PORT: 'eighty' });
    expect(exit.code).toBe(1);
    expect(exit.stderr.trim()).toMatch(/^music-faker: Invalid configuration: PORT: /);
  });

  it('the console with a malformed API address: the line names the setting', async () => {
    const exit = await runApp('music-console', { PORT: '0', CONFIG_API_URL: 'localhost:3000' });
    expect(exit.code).toBe(1);
    expect(exit.stderr.trim()).toMatch(/^music-console: Invalid configuration: CONFIG_API_URL: must be an http\(s\) origin/);
  });

  it('the port taken: the line names the port and PORT', async () => {
    const port = await freePort();
    const holder = await occupy(port);
    try {
      const exit = await runApp('music-faker', { PORT: String(port) });
      expect(exit.code).toBe(1);
      expect(exit.stderr.trim()).toBe(`music-faker: port ${port} is already in use (another process listens there): stop it, or set PORT to a free port`);
    } finally {
      holder.close();
    }
  });

  it('`npx nx serve <app>` fails (non-zero) when the app fails to start, for a taken port and for a bad setting', async () => {
    const port = await freePort();
    const holder = await occupy(port);
    const nx = (env: Record<string, string>) => run('npx', ['nx', 'serve', 'music-faker', '--skip-nx-cache'], { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', ...env });
    try {
      const taken = await nx({ PORT: String(port) });
      expect(taken.code).not.toBe(0);
      expect(`${taken.stdout}${taken.stderr}`).toContain(`port ${port} is already in use`);
      expect(taken.stdout).not.toMatch(/Successfully ran target serve/);
    } finally {
      holder.close();
    }
    const bad = await nx({ PORT: 'eighty' });
    expect(bad.code).not.toBe(0);
    expect(`${bad.stdout}${bad.stderr}`).toContain('Invalid configuration: PORT');
  });

  it('the store reachable: the same app starts (the checks above fail for the right reason)', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'apps/music-config/src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, MONGO_URL: testUrls().mongoUrl, MONGO_DB: uniqueName('startup_errors'), REDIS_URL: testUrls().redisUrl, PORT: String(port), LOG_LEVEL: 'error' },
      stdio: 'ignore',
    });
    try {
      let answered = false;
      for (let i = 0; i < 150 && !answered; i++) {
        answered = await fetch(`http://127.0.0.1:${port}/health/live`).then((r) => r.ok).catch(() => false);
        if (!answered) await new Promise((r) => setTimeout(r, 200));
      }
      expect(answered).toBe(true);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});

import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '@music/testing';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildApp } from '../build/build-app';
import { dockerInstructions, globalArgs, imageNodeVersion, PINNED_IMAGE, read, WORKSPACE, type Instruction } from './deploy-files';

// The image cannot be built on machines without a Docker engine, so the rules it must keep are
// checked on the Dockerfile itself: several stages, pinned bases, production dependencies only,
// built JavaScript run by a non-root user, a health check on /health/ready.

// Builds and child processes: more than unit tests' default 5 s on a busy machine.
jest.setTimeout(60_000);

const instructions = dockerInstructions(read('Dockerfile'));
const stages = instructions.filter((i) => i.keyword === 'FROM');
const finalStage = stages[stages.length - 1]?.args.match(/\bAS\s+(\S+)/i)?.[1] ?? '';
const inStage = (stage: string): Instruction[] => instructions.filter((i) => i.stage === stage && i.keyword !== 'FROM');
const runtime = inStage(finalStage);

describe('Dockerfile', () => {
  it('is multi-stage: dependencies and build apart from a runtime stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(finalStage).toBe('runtime');
  });

  it('builds every stage on a base pinned by exact version and digest', () => {
    const args = globalArgs(instructions);
    const names = new Set(stages.map((s) => /\bAS\s+(\S+)/i.exec(s.args)?.[1]));
    for (const stage of stages) {
      const ref = stage.args.split(/\s+/)[0] as string;
      const resolved = ref.replace(/^\$\{(\w+)\}$/, (_, name: string) => args[name] ?? ref);
      if (names.has(resolved)) continue; // a previous stage
      expect(resolved).toMatch(PINNED_IMAGE);
    }
  });

  it('runs a Node.js LTS line (even major) no older than 24', () => {
    const major = Number(imageNodeVersion().split('.')[0]);
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(24);
  });

  it('installs production dependencies only in what the runtime copies', () => {
    const copies = runtime.filter((i) => i.keyword === 'COPY');
    const nodeModules = copies.find((c) => /\/app\/node_modules\s/.test(`${c.args} `));
    const from = /--from=(\S+)/.exec(nodeModules?.args ?? '')?.[1] as string;
    expect(from).toBeDefined();
    const install = inStage(from).find((i) => i.keyword === 'RUN' && /npm ci\b/.test(i.args));
    expect(install?.args).toMatch(/--omit=dev/);
    // The runtime installs nothing itself.
    expect(runtime.filter((i) => i.keyword === 'RUN' && /npm (ci|install)/.test(i.args))).toEqual([]);
  });

  it('runs the built JavaScript, never TypeScript through tsx', () => {
    const build = inStage('build');
    expect(build.some((i) => i.keyword === 'RUN' && /npm run build/.test(i.args))).toBe(true);
    expect(build.some((i) => i.keyword === 'RUN' && /npm run typecheck/.test(i.args))).toBe(true);
    expect(runtime.some((i) => i.keyword === 'COPY' && /--from=build \/app\/dist \.\/dist/.test(i.args))).toBe(true);
    expect(runtime.every((i) => !/\btsx\b|\.ts\b/.test(i.args))).toBe(true);
    const entrypoint = runtime.find((i) => i.keyword === 'ENTRYPOINT');
    expect(entrypoint?.args).toBe('["/app/docker/run-app.sh"]');
    expect(read('docker/run-app.sh')).toMatch(/exec node --enable-source-maps "\$apps_dir\/\$app\/src\/main\.js"/);
  });

  it('runs as a non-root user, with production settings', () => {
    const users = runtime.filter((i) => i.keyword === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users[users.length - 1]?.args;
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const entrypointAt = runtime.findIndex((i) => i.keyword === 'ENTRYPOINT');
    expect(runtime.findIndex((i) => i === users[users.length - 1])).toBeLessThan(entrypointAt);
    const env = runtime.filter((i) => i.keyword === 'ENV').map((i) => i.args).join(' ');
    expect(env).toMatch(/NODE_ENV=production/);
    expect(env).toMatch(/PORT=3000/);
  });

  it('checks health on /health/ready at the port the app listens on', () => {
    const health = runtime.find((i) => i.keyword === 'HEALTHCHECK');
    expect(health?.args).toMatch(/CMD \["node", "-e", ".*'\/health\/ready'/);
    expect(health?.args).toMatch(/process\.env\.PORT/);
    // The same probe in docker-compose.yml.
    expect(read('docker-compose.yml')).toContain(/CMD (\[.*\])$/.exec(health?.args ?? '')?.[1]?.replace(/^\["node"/, '["CMD", "node"') ?? 'missing');
  });

  it('keeps secrets and local state out of the build context, and what it copies in', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const entry of ['.env', '.git', 'node_modules', 'dist', '.nx']) expect(ignored).toContain(entry);
    const copied = instructions.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from=')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const source of copied) expect(ignored).not.toContain(source);
  });
});

describe('docker/run-app.sh (the image entrypoint)', () => {
  // The image's layout: <root>/docker/run-app.sh and <root>/dist/apps/<app>/src/main.js, inside the
  // workspace so the built app loads packages from its node_modules.
  const root = path.join(WORKSPACE, 'dist', `image-spec-${process.pid}`);
  const script = path.join(root, 'docker', 'run-app.sh');
  const run = promisify(execFile);

  beforeAll(async () => {
    mkdirSync(path.dirname(script), { recursive: true });
    copyFileSync(path.join(WORKSPACE, 'docker', 'run-app.sh'), script);
    await buildApp({ appRoot: 'apps/music-faker', outDir: path.join(root, 'dist', 'apps', 'music-faker') });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('starts the app named by the command, which then serves /health/ready', async () => {
    const listenOn = await freePort();
    const env = { ...process.env, PORT: String(listenOn), LOG_FORMAT: 'json', NODE_ENV: 'production' };
    const child = spawn('sh', [script, 'music-faker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let output = '';
    const port = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line within 30 s:\n${output}`)), 30_000);
      const collect = (chunk: Buffer): void => {
        output += chunk.toString();
        const line = output.split('\n').find((l) => l.includes('music-faker listening'));
        if (!line) return;
        clearTimeout(timer);
        resolve(listenOn);
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      void exited.then(() => reject(new Error(`exited before listening:\n${output}`)));
    });
    try {
      expect((await fetch(`http://127.0.0.1:${await port}/health/ready`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    // exec: the app itself got SIGTERM and shut down gracefully.
    expect(output).toMatch(/"message":"stopped"/);
  });

  it('starts every app with the heap limit of HEAP_LIMIT_MB (default 512 outside a container with a memory limit), or Node\'s own sizing for 0 or a limit in NODE_OPTIONS', async () => {
    // An app that prints the flags Node was started with.
    const probe = path.join(root, 'dist', 'apps', 'music-probe', 'src', 'main.js');
    mkdirSync(path.dirname(probe), { recursive: true });
    writeFileSync(probe, 'console.log(JSON.stringify(process.execArgv));\n');
    try {
      const flags = async (env: Record<string, string>): Promise<string[]> => {
        const { stdout } = await run('sh', [script, 'music-probe'], { env: { ...process.env, HEAP_LIMIT_MB: '', NODE_OPTIONS: '', ...env } });
        return JSON.parse(stdout) as string[];
      };
      expect(await flags({})).toContain('--max-old-space-size=512');
      expect(await flags({ HEAP_LIMIT_MB: '768' })).toContain('--max-old-space-size=768');
      expect((await flags({ HEAP_LIMIT_MB: '0' })).some((f) => f.includes('max-old-space-size'))).toBe(false);
      expect((await flags({ NODE_OPTIONS: '--max-old-space-size=300' })).some((f) => f.includes('max-old-space-size'))).toBe(false);
      expect((await flags({ NODE_OPTIONS: '--max_old_space_size=300' })).some((f) => f.includes('max-old-space-size'))).toBe(false);
      for (const bad of ['lots', '99999999999999999999']) {
        await expect(run('sh', [script, 'music-probe'], { env: { ...process.env, HEAP_LIMIT_MB: bad } })).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/HEAP_LIMIT_MB must be a whole number/) });
      }
      // Any other command runs as given, whatever the setting.
      await expect(run('sh', [script, 'node', '-p', '1 + 1'], { env: { ...process.env, HEAP_LIMIT_MB: 'lots' } })).resolves.toMatchObject({ stdout: '2\n' });
    } finally {
      rmSync(path.dirname(path.dirname(probe)), { recursive: true, force: true });
    }
  });

  it('names the apps when given none or an unknown one', async () => {
    await expect(run('sh', [script])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/usage: <image> <app> \(one of: music-faker \)/) });
    await expect(run('sh', [script, 'music-nope'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/no app named music-nope/) });
  });

  it('runs any other command as given', async () => {
    await expect(run('sh', [script, 'node', '-p', '6 * 7'])).resolves.toMatchObject({ stdout: '42\n' });
  });
});

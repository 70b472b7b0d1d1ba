import { execFile, spawn } from 'node:child_process';
import { freePort } from '@music/testing';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildApp, missingAtRuntime, packageOf } from './build-app';

// Builds and child processes: more than unit tests' default 5 s on a busy machine.
jest.setTimeout(60_000);

const WORKSPACE = path.resolve(__dirname, '..', '..');
// Inside the workspace, so the built files load packages from its node_modules as the image does.
const OUT = path.join(WORKSPACE, 'dist', `build-spec-${process.pid}`);
const run = promisify(execFile);

afterAll(() => rmSync(OUT, { recursive: true, force: true }));

async function buildAndRun(fixture: string): Promise<{ stdout: string; stderr: string; code: number }> {
  const { outfile } = await buildApp({ appRoot: `tools/build/fixtures/${fixture}`, outDir: path.join(OUT, fixture) });
  try {
    const { stdout, stderr } = await run(process.execPath, ['--enable-source-maps', outfile], { cwd: WORKSPACE });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failed = error as { stdout: string; stderr: string; code: number };
    return { stdout: failed.stdout, stderr: failed.stderr, code: failed.code };
  }
}

describe('the production build (tools/build/build-app.ts)', () => {
  it('builds each app to one src/main.js with its source map', async () => {
    const { outfile, bytes } = await buildApp({ appRoot: 'apps/music-faker', outDir: path.join(OUT, 'music-faker') });
    expect(existsSync(outfile)).toBe(true);
    expect(existsSync(`${outfile}.map`)).toBe(true);
    expect(bytes).toBeGreaterThan(10_000);
  });

  it("keeps an app's assets where its code looks for them: the built console serves its pages", async () => {
    const { outfile } = await buildApp({ appRoot: 'apps/music-console', outDir: path.join(OUT, 'music-console') });
    expect(outfile).toBe(path.join(OUT, 'music-console', 'src', 'main.js'));
    expect(existsSync(path.join(OUT, 'music-console', 'public', 'index.html'))).toBe(true);
    const port = await freePort();
    const child = spawn(process.execPath, [outfile], { cwd: WORKSPACE, env: { ...process.env, PORT: String(port), LOG_LEVEL: 'error' }, stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      let page: Response | undefined;
      for (let tries = 0; tries < 200 && !page; tries++) {
        page = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
        if (!page) await new Promise((r) => setTimeout(r, 100));
      }
      expect(page?.status).toBe(200);
      expect(await page?.text()).toMatch(/<html/i);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('runs tsyringe injection by explicit tokens (@inject) without decorator metadata', async () => {
    const result = await buildAndRun('explicit-tokens');
    expect(result).toMatchObject({ code: 0, stdout: 'hello at 42\n' });
  });

  it('cannot run injection that relies on decorator metadata: tsyringe says so at resolve time', async () => {
    // The limit documented in build-app.ts: esbuild emits no `design:paramtypes`. Unit tests
    // (ts-jest) do emit it, so such code passes there and fails only when built; the e2e tests
    // that run the built apps catch it.
    const result = await buildAndRun('implicit-metadata');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/TypeInfo not known for "?Greeter"?/);
  });

  it('refuses app code that imports a devDependency, which the image does not install', async () => {
    await expect(buildApp({ appRoot: 'tools/build/fixtures/dev-dependency', outDir: path.join(OUT, 'dev-dependency') })).rejects.toThrow(
      /imports fast-check, not in package.json "dependencies"/,
    );
  });
});

describe('packageOf / missingAtRuntime', () => {
  it('names the package of a specifier, scoped or not', () => {
    expect(packageOf('zod')).toBe('zod');
    expect(packageOf('swagger-ui-express/index')).toBe('swagger-ui-express');
    expect(packageOf('@bull-board/express')).toBe('@bull-board/express');
    expect(packageOf('@faker-js/faker/locale/en')).toBe('@faker-js/faker');
  });

  it("lists external imports that are neither Node's own modules nor production dependencies", () => {
    const metafile = {
      inputs: {
        'a.ts': {
          bytes: 1,
          imports: [
            { path: 'express', kind: 'require-call' as const, external: true },
            { path: 'node:crypto', kind: 'require-call' as const, external: true },
            { path: 'fs', kind: 'require-call' as const, external: true },
            { path: 'jest', kind: 'require-call' as const, external: true },
            { path: '@types/node', kind: 'require-call' as const, external: true },
            { path: 'libs/domain/src/index.ts', kind: 'import-statement' as const, external: false },
          ],
        },
      },
      outputs: {},
    };
    expect(missingAtRuntime(metafile, { express: '5.3.0' })).toEqual(['@types/node', 'jest']);
  });
});

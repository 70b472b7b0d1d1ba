import { execFile } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '..');
const run = promisify(execFile);

let building: Promise<string> | undefined;

/** Every app of the workspace: the folders of apps/ with a src/main.ts (what `npm run build` builds). */
export function workspaceApps(): string[] {
  return readdirSync(path.join(ROOT, 'apps'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .filter((name) => readdirSync(path.join(ROOT, 'apps', name, 'src')).includes('main.ts'))
    .sort();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the folders of test processes that are gone. Jest runs tests with a `process` of its own
 * whose 'exit' never fires, so a process cannot always remove its folder itself; the next one does.
 */
function removeLeftovers(): void {
  const dist = path.join(ROOT, 'dist');
  const entries = existsSync(dist) ? readdirSync(dist) : [];
  for (const entry of entries) {
    const pid = /^e2e-(\d+)$/.exec(entry)?.[1];
    if (pid && Number(pid) !== process.pid && !alive(Number(pid))) rmSync(path.join(dist, entry), { recursive: true, force: true });
  }
}

/**
 * Builds every app with the production build (tools/build/build-app.ts, what `npm run build` runs
 * for each app) into a folder of this test process, once, and returns that folder:
 * `<dir>/apps/<app>/src/main.js`. A private folder, not dist/apps: it always matches the source under
 * test, and test processes running at once never read each other's half-written files. It sits
 * inside the workspace so the built files load packages from its node_modules, as in the image.
 */
export function builtAppsDir(): Promise<string> {
  building ??= (async () => {
    removeLeftovers();
    const dir = path.join(ROOT, 'dist', `e2e-${process.pid}`);
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await Promise.all(
      workspaceApps().map((app) => run(process.execPath, ['--import', 'tsx', 'tools/build/build-app.ts', `apps/${app}`, path.join(dir, 'apps', app)], { cwd: ROOT })),
    );
    return dir;
  })();
  return building;
}

// Compiles one app to the JavaScript that production runs: `dist/apps/<app>/src/main.js` with its
// source map, beside copies of the app's other folders (`public/`...), so files an app finds
// relative to its source (`path.resolve(__dirname, '..', 'public')`) are where it looks for them
// when built; and the demo script to dist/scripts/demo.js. The app and every lib it imports (through the `@music/*` aliases of
// tsconfig.base.json) are bundled into that one file; packages stay external and are loaded from
// node_modules at run time, so the image ships `npm ci --omit=dev` and this file. Run through Nx:
// `npx nx build music-auth`, `npm run build` (every app, then the demo). Direct use:
//   node --import tsx tools/build/build-app.ts apps/music-auth [outDir]
//   node --import tsx tools/build/build-app.ts scripts/demo.ts [outDir]
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';

const WORKSPACE = path.resolve(__dirname, '..', '..');

/**
 * The oldest Node line we support (package.json `engines`): syntax newer than it is lowered.
 * Kept in step with `engines` by tools/deploy/engines.spec.ts.
 */
export const BUILD_TARGET = 'node20.19';

export interface AppBuild {
  /** The app's folder, relative to the workspace: `apps/music-auth`. */
  appRoot: string;
  /** The built app's folder (main.js goes to its src/); default `dist/<appRoot>`. */
  outDir?: string;
  /** Workspace root (tests build fixtures from elsewhere). */
  workspace?: string;
}

/**
 * esbuild settings shared by every app. TypeScript's legacy decorators are compiled
 * (`experimentalDecorators` in tsconfig.base.json), but esbuild never emits decorator metadata
 * (`design:paramtypes`): code injected by tsyringe must name each constructor parameter's token with
 * `@inject(token)` or be registered with a factory. tools/build/build-app.spec.ts holds both cases.
 */
export function appBuildOptions(entry: string, outfile: string, workspace = WORKSPACE): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    absWorkingDir: workspace,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: BUILD_TARGET,
    // node_modules are installed in the image, not bundled: native addons (bcrypt, msgpackr) and
    // packages that read their own files (swagger-ui-dist) need their real folders anyway.
    packages: 'external',
    tsconfig: path.join(workspace, 'tsconfig.base.json'),
    sourcemap: 'linked',
    sourcesContent: false,
    // Error names and class names appear in logs and error envelopes: keep them.
    keepNames: true,
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  };
}

/** Package name of a bare import specifier (`@scope/name/sub` -> `@scope/name`). */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

/**
 * The external imports of a build that the image would not have: packages that are not production
 * dependencies (a devDependency, or nothing at all). Node's own modules are fine.
 */
export function missingAtRuntime(metafile: Metafile, dependencies: Record<string, string>): string[] {
  const builtins = new Set(builtinModules);
  const missing = new Set<string>();
  for (const input of Object.values(metafile.inputs)) {
    for (const imported of input.imports) {
      if (!imported.external) continue;
      const specifier = imported.path;
      // esbuild's own helpers (`<runtime>`) are not packages.
      if (specifier.startsWith('<')) continue;
      if (specifier.startsWith('node:') || builtins.has(specifier) || builtins.has(packageOf(specifier))) continue;
      if (!(packageOf(specifier) in dependencies)) missing.add(packageOf(specifier));
    }
  }
  return [...missing].sort();
}

/** Bundles `entry` to `outfile`; throws when the build fails or imports a package production will not have. */
async function buildEntry(entry: string, outfile: string, label: string, workspace: string): Promise<{ outfile: string; bytes: number }> {
  const result = await build(appBuildOptions(entry, outfile, workspace));
  const pkg = JSON.parse(readFileSync(path.join(workspace, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const missing = missingAtRuntime(result.metafile as Metafile, pkg.dependencies ?? {});
  if (missing.length > 0) {
    throw new Error(
      `${label} imports ${missing.join(', ')}, not in package.json "dependencies": ` +
        'the production image installs dependencies only (move it there, or stop importing it from app code)',
    );
  }
  const bytes = Object.values((result.metafile as Metafile).outputs).reduce((sum, o) => sum + o.bytes, 0);
  return { outfile, bytes };
}

/**
 * Builds one app (`<appRoot>/src/main.ts`) to `<outDir>/src/main.js`, default
 * `dist/<appRoot>/src/main.js`, and copies the app's other folders (assets such as `public/`) to
 * `<outDir>/`, keeping the app's layout.
 */
export async function buildApp(options: AppBuild): Promise<{ outfile: string; bytes: number }> {
  const workspace = options.workspace ?? WORKSPACE;
  const appDir = path.join(workspace, options.appRoot);
  const entry = path.join(appDir, 'src', 'main.ts');
  if (!existsSync(entry)) throw new Error(`${options.appRoot}: no src/main.ts to build`);
  const outDir = path.resolve(workspace, options.outDir ?? path.join('dist', options.appRoot));
  rmSync(outDir, { recursive: true, force: true });
  for (const child of readdirSync(appDir, { withFileTypes: true })) {
    if (child.isDirectory() && child.name !== 'src') cpSync(path.join(appDir, child.name), path.join(outDir, child.name), { recursive: true });
  }
  return buildEntry(entry, path.join(outDir, 'src', 'main.js'), options.appRoot, workspace);
}

/**
 * Builds a standalone script the image also ships (`scripts/demo.ts`, which the compose `demo`
 * profile runs) to `dist/scripts/<name>.js`.
 */
export async function buildScript(script: string, outDir = path.join('dist', 'scripts'), workspace = WORKSPACE): Promise<{ outfile: string; bytes: number }> {
  const entry = path.join(workspace, script);
  if (!existsSync(entry)) throw new Error(`${script}: no such script`);
  const outfile = path.join(path.resolve(workspace, outDir), `${path.basename(script, '.ts')}.js`);
  return buildEntry(entry, outfile, script, workspace);
}

if (require.main === module) {
  const [target, outDir] = process.argv.slice(2);
  if (!target) {
    console.error('usage: node --import tsx tools/build/build-app.ts apps/<app> [outDir] | scripts/<script>.ts [outDir]');
    process.exit(2);
  }
  const built = target.endsWith('.ts') ? buildScript(target, outDir) : buildApp({ appRoot: target, ...(outDir ? { outDir } : {}) });
  built.then(
    ({ outfile, bytes }) => console.log(`built ${path.relative(WORKSPACE, outfile)} (${Math.round(bytes / 1024)} kB with its map)`),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}

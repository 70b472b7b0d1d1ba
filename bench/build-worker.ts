import path from 'node:path';
import { build } from 'esbuild';
import { appBuildOptions } from '../tools/build/build-app';

const ROOT = path.resolve(__dirname, '..');

/**
 * Compiles the benchmark's child process (`bench/worker-process.ts`, wired like the apps' main.ts)
 * the way production compiles an app (`npm run build`: one esbuild bundle, packages external), so
 * the children run built JavaScript as deployed apps do, not TypeScript compiled on the fly: the
 * loader's own memory and start-up are not the engine's. Returns the built file's path.
 */
export async function buildBenchWorker(outDir = path.join(ROOT, 'dist', 'bench')): Promise<string> {
  const outfile = path.join(outDir, 'worker-process.js');
  await build(appBuildOptions(path.join(ROOT, 'bench', 'worker-process.ts'), outfile, ROOT));
  return outfile;
}

import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

// The workspace's layers are enforced by @nx/enforce-module-boundaries in `npm run lint`
// (eslint.config.mjs). The rule needs Nx's project graph; when none is cached it skips itself with
// a warning, so this spec builds the graph first, as `npm run lint` does, and checks that the rule
// really refuses the imports the layers forbid, and accepts the ones they allow.

const ROOT = resolve(__dirname, '../..');
const RULE = '@nx/enforce-module-boundaries';
const NX_ENV = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };

/** ESLint's own command (its config is an ES module, which Jest's module system does not load). */
async function ruleMessages(filePath: string, code: string): Promise<string[]> {
  let out: string;
  try {
    out = execFileSync('npx', ['eslint', '--format', 'json', '--stdin', '--stdin-filename', filePath], { cwd: ROOT, input: code, encoding: 'utf8', env: NX_ENV });
  } catch (e) {
    out = String((e as { stdout?: string }).stdout ?? ''); // exit status 1: the file has errors
  }
  const [result] = JSON.parse(out) as Array<{ messages: Array<{ ruleId: string | null; message: string }> }>;
  return (result?.messages ?? []).filter((m) => m.ruleId === RULE || /ProjectGraph/.test(m.message)).map((m) => m.message);
}

describe('module boundaries (lint)', () => {
  beforeAll(() => {
    execFileSync('npx', ['nx', 'show', 'projects'], { cwd: ROOT, env: NX_ENV, stdio: 'ignore' });
  }, 120000);

  it('refuse an app importing another app', async () => {
    const messages = await ruleMessages('apps/music-auth/src/bad-import.ts', "import { loadConfig } from '../../music-config/src/config';\nexport const c = loadConfig;\n");
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.join('\n')).not.toMatch(/No cached ProjectGraph/);
  }, 60000);

  it('refuse a lib importing a layer above it', async () => {
    const messages = await ruleMessages('libs/domain/src/bad-import.ts', "import { JOBS } from '@music/queue';\nexport const j = JOBS;\n");
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.join('\n')).not.toMatch(/No cached ProjectGraph/);
  }, 60000);

  it('accept an app importing a lib through its alias', async () => {
    expect(await ruleMessages('apps/music-auth/src/good-import.ts', "import { JOBS } from '@music/queue';\nexport const j = JOBS;\n")).toEqual([]);
  }, 60000);
});

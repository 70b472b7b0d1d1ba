import { join } from 'node:path';
import { aliasesFrom, checkImport, importsOf, isEndToEnd, projectOf, scanWorkspace } from './import-boundaries';

const ROOT = join(__dirname, '..', '..', '..');

describe('workspace import boundaries', () => {
  it('holds for every import under apps/, libs/ and e2e/', () => {
    const { files, imports, violations } = scanWorkspace(ROOT);
    // The scan really read the workspace (a broken walker would pass vacuously).
    expect(files).toContain('libs/platform/src/http-app.ts');
    expect(files.some((f) => f.startsWith('apps/music-auth/'))).toBe(true);
    expect(imports).toBeGreaterThan(50);
    const report = violations.map((v) => `${v.file}: '${v.specifier}': ${v.problem}`).join('\n');
    expect(report).toBe('');
  });
});

describe('checkImport', () => {
  const aliases = aliasesFrom({
    '@music/domain': ['libs/domain/src/index.ts'],
    '@music/mapping': ['libs/mapping/src/index.ts'],
    '@music/queue': ['libs/queue/src/index.ts'],
    '@music/platform': ['libs/platform/src/index.ts'],
    '@music/persistence': ['libs/persistence/src/index.ts'],
    '@music/testing': ['libs/testing/src/index.ts'],
  });
  const problem = (file: string, specifier: string): string | undefined => checkImport(file, specifier, aliases)?.problem;

  it('lets apps import libs by alias, their own files relatively, and packages', () => {
    expect(problem('apps/music-auth/src/app.ts', '@music/platform')).toBeUndefined();
    expect(problem('apps/music-auth/src/app.ts', '@music/persistence')).toBeUndefined();
    expect(problem('apps/music-auth/src/routes/sign-up.routes.ts', '../config')).toBeUndefined();
    expect(problem('apps/music-auth/src/app.ts', 'express')).toBeUndefined();
    expect(problem('apps/music-auth/src/app.ts', 'node:crypto')).toBeUndefined();
  });

  it('refuses an app importing another app', () => {
    expect(problem('apps/music-auth/src/app.ts', '../../music-config/src/app')).toMatch(/an app never imports another app \(music-auth -> music-config\)/);
    expect(problem('apps/music-auth/src/app.ts', 'apps/music-config/src/app')).toMatch(/an app never imports another app/);
  });

  it('refuses a lib importing an app', () => {
    expect(problem('libs/platform/src/x.ts', '../../../apps/music-auth/src/app')).toMatch(/a lib never imports an app/);
    expect(problem('libs/testing/src/x.ts', '../../../apps/music-faker/src/app')).toMatch(/a lib never imports an app/);
  });

  it.each([
    ['domain', '@music/platform'],
    ['domain', '@music/queue'],
    ['mapping', '@music/platform'],
    ['queue', '@music/persistence'],
    ['queue', '@music/platform'],
    ['platform', '@music/persistence'],
    ['platform', '@music/queue'],
    ['persistence', '@music/queue'],
    ['persistence', '@music/testing'],
  ])('refuses lib %s importing %s', (lib, specifier) => {
    expect(problem(`libs/${lib}/src/thing.ts`, specifier)).toMatch(new RegExp(`lib ${lib} may import`));
  });

  it.each([
    ['mapping', '@music/domain'],
    ['queue', '@music/domain'],
    ['platform', '@music/domain'],
    ['persistence', '@music/domain'],
    ['persistence', '@music/platform'],
    ['testing', '@music/persistence'],
    ['testing', '@music/platform'],
  ])('lets lib %s import %s', (lib, specifier) => {
    expect(problem(`libs/${lib}/src/thing.ts`, specifier)).toBeUndefined();
  });

  it('lets test files of any lib use @music/testing, but not the lib code itself', () => {
    expect(problem('libs/persistence/src/user.repository.integration.spec.ts', '@music/testing')).toBeUndefined();
    expect(problem('libs/platform/src/readiness.integration.spec.ts', '@music/testing')).toBeUndefined();
    expect(problem('libs/platform/src/http-app.ts', '@music/testing')).toMatch(/lib platform may import domain, not testing/);
  });

  it('refuses a lib without a layering rule', () => {
    expect(problem('libs/billing/src/x.ts', '@music/domain')).toMatch(/lib billing has no layering rule/);
  });

  it('refuses relative imports that climb out of their project, even into an allowed lib', () => {
    expect(problem('apps/music-auth/src/app.ts', '../../../libs/platform/src/config')).toMatch(/relative import climbs out of its project: use '@music\/platform'/);
    expect(problem('libs/persistence/src/models.ts', '../../domain/src/ids')).toMatch(/climbs out.*@music\/domain/);
    expect(problem('libs/platform/src/x.ts', '../../../scripts/tool')).toMatch(/import leaves lib platform for scripts\/tool/);
  });

  it('refuses workspace-path and deep alias imports', () => {
    expect(problem('apps/music-auth/src/app.ts', 'libs/platform/src/config')).toMatch(/import by workspace path: use '@music\/platform'/);
    expect(problem('apps/music-auth/src/app.ts', '@music/platform/src/config')).toMatch(/deep import/);
    expect(problem('apps/music-auth/src/app.ts', '@music/nothing')).toMatch(/unknown alias/);
  });

  it('lets end-to-end tests import apps', () => {
    expect(problem('e2e/src/sync.e2e.spec.ts', '../../apps/music-auth/src/app')).toBeUndefined();
    expect(problem('e2e/src/helpers/stack.ts', '../../../apps/music-faker/src/app')).toBeUndefined();
    expect(problem('apps/music-auth/e2e/sign-in.spec.ts', '../../music-config/src/app')).toBeUndefined();
    expect(problem('e2e/src/sync.e2e.spec.ts', '@music/testing')).toBeUndefined();
    // ...but only tests: the same import from an app's own code is refused.
    expect(problem('apps/music-auth/src/e2e-ish.ts', '../../music-config/src/app')).toMatch(/an app never imports another app/);
  });
});

describe('helpers', () => {
  it('finds static, type-only, re-exported, required and dynamic imports, not commented ones', () => {
    const source = [
      "import { a } from './a';",
      "import type { B } from '@music/domain';",
      "export * from '../c';",
      "const d = require('d-package');",
      "const e = await import('./e');",
      "import './side-effect';",
      "// import { x } from '../../music-config/src/app';",
      "const text = \"import y from 'not-an-import'\";",
    ].join('\n');
    expect(importsOf(source).sort()).toEqual(['../c', './a', './e', './side-effect', '@music/domain', 'd-package'].sort());
  });

  it('classifies paths into projects', () => {
    expect(projectOf('apps/music-auth/src/main.ts')).toEqual({ kind: 'app', name: 'music-auth' });
    expect(projectOf('libs/domain/src/index.ts')).toEqual({ kind: 'lib', name: 'domain' });
    expect(projectOf('e2e/src/a.e2e.spec.ts')).toEqual({ kind: 'e2e' });
    expect(projectOf('scripts/x.ts')).toEqual({ kind: 'other' });
    expect(isEndToEnd('e2e/src/a.ts')).toBe(true);
    expect(isEndToEnd('apps/music-auth/src/app.ts')).toBe(false);
  });
});

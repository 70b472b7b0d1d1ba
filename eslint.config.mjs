// Lint for the whole repository (`npm run lint`, zero warnings; `npx nx lint <project>` per project).
// typescript-eslint's recommended rules, and the workspace's layers enforced on every import by
// @nx/enforce-module-boundaries from the Nx project tags (each project.json):
//   - scope:app (apps/*) may import libs only, never another app;
//   - scope:lib (libs/*) may import libs only, and only the layers below it (type:*);
//   - scope:e2e (e2e/) drives the apps as a user would: it may import apps and libs.
// Imports across projects go through a lib's alias (`@music/<lib>`, its src/index.ts), never a
// relative or workspace path.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/** Which libs each lib may import besides itself: `type:<lib>` tags (libs/<lib>/project.json). */
const LIB_LAYERS = {
  domain: [],
  mapping: ['domain'],
  queue: ['domain'],
  platform: ['domain'],
  persistence: ['domain', 'platform'],
  // The one writer of item state: stores what the domain decides, through the persistence models.
  'sync-state': ['domain', 'platform', 'persistence'],
  testing: ['domain', 'mapping', 'queue', 'platform', 'persistence', 'sync-state'],
};

/** The module-boundaries rule; test files of any project may also use libs/testing. */
function boundaries({ tests }) {
  const libConstraints = Object.entries(LIB_LAYERS).map(([lib, below]) => ({
    sourceTag: `type:${lib}`,
    onlyDependOnLibsWithTags: [...new Set([`type:${lib}`, ...below.map((l) => `type:${l}`), ...(tests ? ['type:testing'] : [])])],
  }));
  return [
    'error',
    {
      enforceBuildableLibDependency: false,
      // A lib's specs use libs/testing, which builds on that lib: a cycle through test files only.
      ignoredCircularDependencies: Object.keys(LIB_LAYERS).filter((lib) => lib !== 'testing').map((lib) => ['testing', lib]),
      depConstraints: [
        { sourceTag: 'scope:app', onlyDependOnLibsWithTags: ['scope:lib'] },
        { sourceTag: 'scope:lib', onlyDependOnLibsWithTags: ['scope:lib'] },
        { sourceTag: 'scope:e2e', onlyDependOnLibsWithTags: ['scope:app', 'scope:lib'] },
        ...libConstraints,
      ],
    },
  ];
}

const TEST_FILES = ['**/*.spec.ts', '**/*.test-helper.ts', '**/*.test-harness.ts', 'libs/testing/src/**/*.ts', 'e2e/**/*.ts'];

export default tseslint.config(
  { ignores: ['**/node_modules/', '**/dist/', 'coverage/', '.nx/', 'tmp/', 'bench/profiles/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': boundaries({ tests: false }),
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true, allowShortCircuit: true }],
      // `declare global { namespace Express { interface User extends AuthUser {} } }`: how Express's types are extended.
      '@typescript-eslint/no-namespace': ['error', { allowDeclarations: true }],
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: TEST_FILES,
    rules: {
      '@nx/enforce-module-boundaries': boundaries({ tests: true }),
      // Tests read response bodies of any shape.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // End-to-end tests start the apps in-process from their sources.
    files: ['e2e/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', { ...boundaries({ tests: true })[1], allow: ['^(\\.\\./)+apps/music-[a-z-]+/src/'] }] },
  },
  {
    // The console's browser scripts: tsc checks them (apps/music-console/tsconfig.client.json, DOM
    // types), names included; an import used only in a JSDoc type looks unused to ESLint.
    files: ['apps/music-console/public/**/*.js'],
    languageOptions: { sourceType: 'module' },
    rules: { 'no-undef': 'off', '@typescript-eslint/no-unused-vars': 'off' },
  },
  {
    // Plain CommonJS: Jest configs, the Nx build plugin.
    files: ['*.js', 'apps/*/jest.config.js', 'libs/*/jest.config.js', 'tools/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);

// Shared Jest settings: ts-jest in transpile-only mode (type errors are caught by `npm run typecheck`,
// which CI runs first) and the tsconfig path aliases mapped to the libs' source barrels.
const path = require('node:path');
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.base.json');

const base = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.base.json', isolatedModules: true, diagnostics: false }],
    // ESM-only dependencies (faker 10, request-filtering-agent 3) are compiled to CommonJS for Jest.
    '^.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true }, isolatedModules: true, diagnostics: false }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@faker-js/faker|request-filtering-agent)/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' }),
  rootDir: __dirname,
};

/** What integration specs need: the test store and Redis URLs (libs/testing/src/jest-setup.ts) and a minute each. */
const integration = {
  setupFiles: ['<rootDir>/libs/testing/src/jest-setup.ts'],
  setupFilesAfterEnv: ['<rootDir>/libs/testing/src/jest-timeout.ts'],
};

/**
 * One Nx project's specs, unit and integration (its jest.config.js, inferred as its `test` target by
 * @nx/jest: `npx nx test music-auth`). Run that way, without scripts/test.sh, a private test store is
 * started for the run when TEST_MONGO_URL is not set (libs/testing/src/jest-global-setup.ts).
 */
function projectConfig(projectDir) {
  return {
    ...base,
    ...integration,
    displayName: path.relative(__dirname, projectDir),
    roots: [projectDir],
    testMatch: ['**/*.spec.ts'],
    testPathIgnorePatterns: ['/node_modules/', '\\.e2e\\.spec\\.ts$'],
    testTimeout: 60000,
    // A lib whose code is tested through the apps has no specs of its own yet.
    passWithNoTests: true,
    globalSetup: '<rootDir>/libs/testing/src/jest-global-setup.ts',
    globalTeardown: '<rootDir>/libs/testing/src/jest-global-teardown.ts',
  };
}

module.exports = { base, integration, projectConfig };

// Two Jest projects: fast unit tests of pure logic, and integration tests that talk to the real
// store and Redis (started by scripts/test.sh). `--selectProjects unit|integration` runs one.
const preset = require('./jest.preset.js');

module.exports = {
  projects: [
    {
      ...preset,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs,bench,tools}/**/*.spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.integration\\.spec\\.ts$', '\\.e2e\\.spec\\.ts$'],
    },
    {
      ...preset,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs}/**/*.integration.spec.ts', '<rootDir>/e2e/**/*.e2e.spec.ts'],
      testTimeout: 60000,
      setupFiles: ['<rootDir>/libs/testing/src/jest-setup.ts'],
      setupFilesAfterEnv: ['<rootDir>/libs/testing/src/jest-timeout.ts'],
    },
  ],
};

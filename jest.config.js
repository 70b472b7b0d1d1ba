// The whole suite (`npm test`, through scripts/test.sh, which starts the test store): two Jest
// projects, fast unit tests of pure logic and integration tests that talk to the real store and
// Redis. `--selectProjects unit|integration` runs one. Each Nx project also has a jest.config.js of
// its own for `npx nx test <project>` (jest.preset.js).
const { base, integration } = require('./jest.preset.js');

module.exports = {
  projects: [
    {
      ...base,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs,bench,tools}/**/*.spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.integration\\.spec\\.ts$', '\\.e2e\\.spec\\.ts$'],
    },
    {
      ...base,
      ...integration,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs}/**/*.integration.spec.ts', '<rootDir>/e2e/**/*.e2e.spec.ts'],
      testTimeout: 60000,
    },
  ],
};

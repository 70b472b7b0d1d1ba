// Shared Jest settings: ts-jest in transpile-only mode (type errors are caught by `npm run typecheck`,
// which CI runs first) and the tsconfig path aliases mapped to the libs' source barrels.
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.base.json');

module.exports = {
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

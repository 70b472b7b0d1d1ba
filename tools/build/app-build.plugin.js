// Nx plugin (listed in nx.json): every app with an `src/main.ts` under apps/ gets a `build` target
// that compiles it to dist/apps/<app>/src/main.js (tools/build/build-app.ts), so a new app is built,
// cached and put in the image without any per-app setting. JavaScript rather than TypeScript: Nx
// loads plugins before any TypeScript loader is available on Node 20.
// @ts-check
const path = require('node:path');

/** @type {import('nx/src/project-graph/plugins/public-api').CreateNodes} */
const createNodes = [
  'apps/*/src/main.ts',
  (mainFiles) =>
    mainFiles.map((mainFile) => {
      const appRoot = path.posix.dirname(path.posix.dirname(mainFile));
      return [
        mainFile,
        {
          projects: {
            [appRoot]: {
              targets: {
                build: {
                  command: `node --import tsx tools/build/build-app.ts ${appRoot}`,
                  options: { cwd: '{workspaceRoot}' },
                  cache: true,
                  inputs: ['production', '^production', '{workspaceRoot}/tools/build/**/*', { externalDependencies: ['esbuild'] }],
                  outputs: [`{workspaceRoot}/dist/${appRoot}`],
                  metadata: { description: `Compile ${appRoot} and the libs it imports to dist/${appRoot}/src/main.js` },
                },
              },
            },
          },
        },
      ];
    }),
];

module.exports = { name: 'music-sync/app-build', createNodes, createNodesV2: createNodes };

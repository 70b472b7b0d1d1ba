// The project's unit and integration specs (`npx nx test sync-state`); see jest.preset.js.
module.exports = require('../../jest.preset.js').projectConfig(__dirname);

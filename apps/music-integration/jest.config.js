// The project's unit and integration specs (`npx nx test music-integration`); see jest.preset.js.
module.exports = require('../../jest.preset.js').projectConfig(__dirname);

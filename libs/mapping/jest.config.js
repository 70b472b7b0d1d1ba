// The project's unit and integration specs (`npx nx test mapping`); see jest.preset.js.
module.exports = require('../../jest.preset.js').projectConfig(__dirname);

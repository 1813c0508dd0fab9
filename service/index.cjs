// tsserver requires plugins by name with Node10 resolution (no package "exports"): hand it the CommonJS build.
module.exports = require("../dist/cjs/transformer/service.js").default;

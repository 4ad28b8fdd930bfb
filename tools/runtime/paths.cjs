'use strict';
// Resolves `@mailwarden/<lib>` for code that runs outside the TypeScript compiler's path mapping:
// - compiled apps and tools: `node -r ./tools/runtime/paths.cjs dist/apps/<app>/src/main.js` maps to dist/libs;
// - Jest's global setup (which bypasses moduleNameMapper): jest.preset.js calls register('src').
const Module = require('node:module');
const path = require('node:path');

const repoRoot = path.resolve(__dirname, '..', '..');
let registered = false;

function register(layout) {
  if (registered) {
    return;
  }
  registered = true;
  const base = layout === 'src' ? repoRoot : path.join(repoRoot, 'dist');
  const file = layout === 'src' ? 'index.ts' : 'index.js';
  const originalResolve = Module._resolveFilename;
  Module._resolveFilename = function resolveMailwardenAlias(request, ...rest) {
    if (request.startsWith('@mailwarden/')) {
      request = path.join(base, 'libs', request.slice('@mailwarden/'.length), 'src', file);
    }
    return originalResolve.call(this, request, ...rest);
  };
}

module.exports = { register };

// Preloaded with `node -r`: the compiled layout.
if (module.parent && module.parent.id === 'internal/preload') {
  register('dist');
}

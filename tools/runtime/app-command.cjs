'use strict';
// The one way an app process is started (npm start, the crash tests, the benchmark; Docker and `nx serve` spell the
// same arguments out): node with the app's V8 flags and the compiled main. `@mailwarden/*` resolves through the npm
// workspace packages (node_modules/@mailwarden/<lib> → libs/<lib>, whose package.json exports its dist/).
const path = require('node:path');

const repoRoot = path.resolve(__dirname, '..', '..');

/**
 * V8 flags of every app. A young generation of 8 MB semi-spaces instead of V8's default (up to 32 MB here) keeps an
 * app's peak RSS ~65 MB lower under load at the same throughput (journal ingest, 3,000 × 20 KB: 336 → 269 MB, 602 →
 * 638 msgs/s; tools/bench/README.md).
 */
const APP_NODE_FLAGS = ['--max-semi-space-size=8'];

/** Arguments for `node` that run `app` from dist/ (absolute paths, so any working directory will do). */
function appNodeArgs(app) {
  return [...APP_NODE_FLAGS, path.join(repoRoot, 'dist', 'apps', app, 'src', 'main.js')];
}

module.exports = { APP_NODE_FLAGS, appNodeArgs };

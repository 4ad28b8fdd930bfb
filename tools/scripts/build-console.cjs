'use strict';
// Builds the web console (apps/console) after the TypeScript build (`npm run build`, `npm start`):
//   1. the admin API's OpenAPI document, written without listening (dist/openapi/admin-api.json);
//   2. its TypeScript types for the console's API client (openapi-typescript → apps/console/src/api/schema.d.ts,
//      generated, not committed), so a changed or removed route fails step 3;
//   3. the console's type check (tsc, strict);
//   4. the Vite production build into dist/console, served by the admin API at /console/.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const documentFile = path.join(root, 'dist', 'openapi', 'admin-api.json');
const schemaFile = path.join(root, 'apps', 'console', 'src', 'api', 'schema.d.ts');

function step(label, command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } });
  if (result.status !== 0) {
    console.error(`console build: ${label} failed`);
    process.exit(result.status ?? 1);
  }
}

step('OpenAPI export', process.execPath, ['dist/apps/admin-api/src/openapi-export.js', documentFile]);
step('openapi-typescript', process.execPath, [bin('openapi-typescript'), documentFile, '--output', schemaFile, '--default-non-nullable', 'false']);
step('type check', process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'apps/console/tsconfig.json']);
step('vite build', process.execPath, [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'apps/console/vite.config.mjs', '--logLevel', 'warn']);

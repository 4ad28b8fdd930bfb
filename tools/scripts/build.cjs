'use strict';
// `npm run build` (and `npm start`): everything the apps and tools run from, offline.
//   1. the Prisma client (libs/db/src/generated);
//   2. every TypeScript project in dependency order, in one `tsc --build` of the solution file tsconfig.build.json
//      (each lib → libs/<lib>/dist, exported by its workspace package; each app → dist/apps/<app>; tools →
//      dist/tools). Incremental: projects whose sources did not change are skipped;
//   3. the console (`nx run console:build`), replayed from Nx's local cache when neither it nor the admin API changed.
// Every project also has its own `nx run <project>:build` (project.json, cached, `nx affected -t build`): the same
// compilation one tsc per project. One process for all of them is faster on a cold checkout (CI), so this is it.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');

function step(label, args, env = {}) {
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
  if (result.status !== 0) {
    console.error(`build: ${label} failed`);
    process.exit(result.status ?? 1);
  }
}

step('Prisma client', [path.join(root, 'tools', 'db', 'generate.cjs')]);
step('TypeScript', [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '--build', 'tsconfig.build.json']);
step('console', [path.join(root, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), 'run', 'console:build', '--excludeTaskDependencies', '--outputStyle=stream-without-prefixes'], {
  NX_DAEMON: 'false',
  NX_TUI: 'false',
});

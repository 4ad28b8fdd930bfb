'use strict';
// `npm start`: builds, prepares the database (create, migrate, seed the demo tenant), then runs the three
// apps as separate processes, as in production, and prints where each listens. Ctrl-C stops them all.
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');
const { appNodeArgs } = require('../runtime/app-command.cjs');

const root = path.resolve(__dirname, '..', '..');
const node = process.execPath;
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  console.error(`mailwarden: Node ${process.versions.node} is too old; run through npm (the repo pins Node 24).`);
  process.exit(1);
}

function run(args, label) {
  const result = spawnSync(node, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`mailwarden: ${label} failed`);
    process.exit(result.status ?? 1);
  }
}

run([path.join(root, 'tools', 'scripts', 'build.cjs')], 'the build');
run(['dist/tools/db/setup.js'], 'database setup');

const env = process.env;
const host = env.HOST || '0.0.0.0';
const shown = host === '0.0.0.0' ? '127.0.0.1' : host;
const apps = [
  { name: 'journal-ingest', urls: [`SMTP ${shown}:${env.JOURNAL_SMTP_PORT || 2525}`, `health http://${shown}:${env.JOURNAL_HTTP_PORT || 9101}/health`] },
  { name: 'scanner', urls: [`health http://${shown}:${env.SCANNER_HTTP_PORT || 9102}/health`] },
  {
    name: 'admin-api',
    urls: [
      `API http://${shown}:${env.ADMIN_API_PORT || 3000}`,
      `docs http://${shown}:${env.ADMIN_API_PORT || 3000}/docs`,
      `console http://${shown}:${env.ADMIN_API_PORT || 3000}/console/`,
    ],
  },
];

const children = apps.map((app) => {
  const child = spawn(node, appNodeArgs(app.name), {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`mailwarden: ${app.name} exited (${signal || code}); stopping the others`);
      stop(code || 1);
    }
  });
  return child;
});

console.log('\nMailwarden is starting:');
for (const app of apps) {
  console.log(`  ${app.name.padEnd(15)} ${app.urls.join('   ')}`);
}
console.log('');

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) {
    if (child.exitCode === null) child.kill('SIGTERM');
  }
  setTimeout(() => process.exit(code), 5000).unref();
  Promise.all(children.map((child) => (child.exitCode === null ? new Promise((r) => child.on('exit', r)) : null))).then(() =>
    process.exit(code),
  );
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

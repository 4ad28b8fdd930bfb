'use strict';
// `node tools/scripts/check-images.cjs`: lists what each docker/<app>.Dockerfile copies into its final image and fails
// when an image gets more than its app: the whole dist/, another app's output, a lib the app does not depend on, an
// unpruned node_modules, or when it lacks its own output or one of its libs. The libs an app needs are its
// package.json's @mailwarden/* dependencies, transitively (the same list `npm ci --workspace` installs and Nx builds).
// There is no Docker engine on the CI machines: this script (and its jest test) is how the Dockerfiles stay right.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const SCOPE = '@mailwarden/';

/** What an app's image may hold besides its own output and its libs (admin-api serves the console and hosts `migrate`). */
const EXTRAS = {
  'admin-api': ['dist/console', 'dist/tools/db/migrate.js', 'dist/tools/db/migrate-database.js'],
};
/** Copied into every image: the launcher's V8 flags and the schema migrations libs/db applies. */
const COMMON = ['package.json', 'tools/runtime/app-command.cjs', 'libs/db/prisma/migrations'];

function readPackage(dir) {
  return JSON.parse(fs.readFileSync(path.join(root, dir, 'package.json'), 'utf8'));
}

/** The workspace libs `app` needs at run time: its package.json dependencies on @mailwarden/*, transitively. */
function libClosure(app, read = readPackage) {
  const libs = new Set();
  const visit = (dir) => {
    for (const name of Object.keys(read(dir).dependencies ?? {})) {
      if (name.startsWith(SCOPE) && !libs.has(name.slice(SCOPE.length))) {
        libs.add(name.slice(SCOPE.length));
        visit(`libs/${name.slice(SCOPE.length)}`);
      }
    }
  };
  visit(`apps/${app}`);
  return [...libs].sort();
}

/** Joins continuation lines and splits a Dockerfile into its stages, each with its FROM line and instructions. */
function parseStages(text) {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
  const stages = [];
  for (const line of lines) {
    const [keyword, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (keyword.toUpperCase() === 'FROM') {
      const alias = /\s+AS\s+(\S+)$/i.exec(args);
      stages.push({ name: alias ? alias[1] : null, instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

/** The COPY instructions of the final stage: `{ from, source, target }` per copied path (sources relative to /app). */
function listImageContents(text) {
  const stages = parseStages(text);
  const final = stages[stages.length - 1];
  if (!final) throw new Error('no FROM in the Dockerfile');
  const copies = [];
  for (const { keyword, args } of final.instructions) {
    if (keyword !== 'COPY' && keyword !== 'ADD') continue;
    const words = args.split(/\s+/);
    const from = (words.find((word) => word.startsWith('--from=')) ?? '').slice('--from='.length) || 'context';
    const paths = words.filter((word) => !word.startsWith('--'));
    const target = paths.pop();
    for (const source of paths) {
      copies.push({ from, source: source.replace(/^\/app\/?/, '').replace(/\/$/, '') || '.', target });
    }
  }
  return { stages, copies };
}

/** The problems with `app`'s image (empty when it holds exactly its own output, its libs and pruned dependencies). */
function checkImage(app, text, { apps, libs }) {
  const { stages, copies } = listImageContents(text);
  const problems = [];
  const allowed = new Set([...COMMON, ...(EXTRAS[app] ?? []), `dist/apps/${app}`, ...libs.flatMap((lib) => [`libs/${lib}/package.json`, `libs/${lib}/dist`])]);
  const copied = new Set();
  for (const { from, source } of copies) {
    if (source === 'node_modules') {
      const stage = stages.find((candidate) => candidate.name === from);
      const install = stage?.instructions.find((i) => i.keyword === 'RUN' && /npm ci\b/.test(i.args));
      if (!install || !/--omit=dev/.test(install.args) || !install.args.includes(`--workspace=${SCOPE}${app}`)) {
        problems.push(`node_modules comes from stage "${from}", which is not \`npm ci --omit=dev --workspace=${SCOPE}${app}\``);
      }
      continue;
    }
    copied.add(source);
    if (source === '.' || source === 'dist' || source === 'libs' || source === 'apps') {
      problems.push(`copies the whole ${source === '.' ? 'build context' : source}/`);
    } else if (from === 'context') {
      problems.push(`copies ${source} from the build context instead of the build stage`);
    } else {
      const other = apps.find((name) => name !== app && (source === `dist/apps/${name}` || source.startsWith(`dist/apps/${name}/`)));
      if (other) problems.push(`copies another app's output: ${source}`);
      else if (!allowed.has(source)) problems.push(`copies ${source}, which is not ${app}'s output, one of its libs or a listed extra`);
    }
  }
  if (!copies.some((copy) => copy.source === 'node_modules')) problems.push('copies no node_modules');
  for (const needed of [`dist/apps/${app}`, ...libs.flatMap((lib) => [`libs/${lib}/package.json`, `libs/${lib}/dist`])]) {
    if (!copied.has(needed)) problems.push(`lacks ${needed}`);
  }
  return problems;
}

/** Checks every docker/<app>.Dockerfile of the repository; returns `{ app, copies, problems }` per image. */
function checkRepository() {
  const apps = fs.readdirSync(path.join(root, 'apps')).filter((name) => fs.existsSync(path.join(root, 'apps', name, 'package.json')));
  return fs
    .readdirSync(path.join(root, 'docker'))
    .filter((file) => file.endsWith('.Dockerfile'))
    .sort()
    .map((file) => {
      const app = file.slice(0, -'.Dockerfile'.length);
      const text = fs.readFileSync(path.join(root, 'docker', file), 'utf8');
      const problems = apps.includes(app) ? checkImage(app, text, { apps, libs: libClosure(app) }) : [`docker/${file} names no app under apps/`];
      return { app, copies: listImageContents(text).copies, problems };
    });
}

module.exports = { listImageContents, checkImage, libClosure, checkRepository };

if (require.main === module) {
  let failed = false;
  for (const { app, copies, problems } of checkRepository()) {
    console.log(`${app}:`);
    for (const copy of copies) console.log(`  ${copy.from.padEnd(7)} ${copy.source}`);
    for (const problem of problems) console.log(`  PROBLEM: ${problem}`);
    failed ||= problems.length > 0;
  }
  process.exit(failed ? 1 : 0);
}

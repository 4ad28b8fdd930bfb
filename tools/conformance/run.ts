import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { compareWithFloors, formatSuiteLine, Floors } from './floors';
import { runArcSealing, runArcValidation, runDkimSigning, runDkimVectors, runDmarcCases, runMailDkimCorpus, runMilterCorpus, runSpfSuite, SuiteResult } from './suites';

/**
 * Replays the third-party conformance suites (/work/shared/conformance, never copied into the repo)
 * through @mailwarden/sender-checks and compares the counts with tools/conformance/floors.json.
 * Usage: npm run conformance [-- --list-failures]
 * Env: MAILWARDEN_CONFORMANCE_DIR overrides the suites' folder (default: <repo>/../shared/conformance).
 */
async function main(argv: string[]): Promise<number> {
  const repoRoot = findRepoRoot(__dirname);
  const dir = process.env.MAILWARDEN_CONFORMANCE_DIR ?? path.resolve(repoRoot, '..', 'shared', 'conformance');
  if (!existsSync(dir)) {
    console.error(`conformance data not found at ${dir} (set MAILWARDEN_CONFORMANCE_DIR)`);
    return 2;
  }
  const listFailures = argv.includes('--list-failures');

  const results: SuiteResult[] = [
    await runSpfSuite('spf-rfc7208', path.join(dir, 'spf', 'rfc7208-tests.yml')),
    await runSpfSuite('spf-rfc4408', path.join(dir, 'spf', 'rfc4408-tests.yml')),
    await runDkimVectors(path.join(dir, 'dkim')),
    await runMailDkimCorpus(path.join(dir, 'dkim')),
    await runArcValidation(path.join(dir, 'arc')),
    ...(await runArcSealing(path.join(dir, 'arc'))),
    await runDkimSigning(path.join(dir, 'arc')),
    await runDmarcCases(path.join(dir, 'dmarc')),
    await runMilterCorpus(path.join(dir, 'dmarc')),
  ];

  for (const result of results) {
    console.log(formatSuiteLine(result));
    if (listFailures) {
      for (const failure of result.failures) {
        console.log(`  FAIL ${failure.id}: ${failure.detail}`);
      }
    }
  }

  const floorsFile = path.join(repoRoot, 'tools', 'conformance', 'floors.json');
  const floors = JSON.parse(readFileSync(floorsFile, 'utf8')) as Floors;
  const drops = compareWithFloors(results, floors);
  for (const drop of drops) {
    console.error(`below floor: ${drop}`);
  }
  return drops.length ? 1 : 0;
}

/** The directory holding package.json, walking up from the compiled file (dist/tools/conformance). */
function findRepoRoot(start: string): string {
  let dir = start;
  while (!existsSync(path.join(dir, 'package.json')) || !existsSync(path.join(dir, 'tools', 'conformance'))) {
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`repository root not found above ${start}`);
    }
    dir = parent;
  }
  return dir;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 2;
  },
);

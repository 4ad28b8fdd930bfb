import { readFileSync } from 'node:fs';
import path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const images = require('./check-images.cjs') as {
  listImageContents(text: string): { copies: { from: string; source: string; target: string }[] };
  checkImage(app: string, text: string, context: { apps: string[]; libs: string[] }): string[];
  libClosure(app: string, read?: (dir: string) => { dependencies?: Record<string, string> }): string[];
  checkRepository(): { app: string; copies: { source: string }[]; problems: string[] }[];
};

const APPS = ['admin-api', 'journal-ingest', 'scanner'];
const scanner = readFileSync(path.join(__dirname, '..', '..', 'docker', 'scanner.Dockerfile'), 'utf8');
const scannerLibs = images.libClosure('scanner');

describe('check-images', () => {
  it('should find every Dockerfile in docker/ shipping only its own app, its libs and pruned dependencies', () => {
    const results = images.checkRepository();
    expect(results.map((result) => result.app)).toEqual(APPS);
    for (const result of results) {
      expect({ app: result.app, problems: result.problems }).toEqual({ app: result.app, problems: [] });
      expect(result.copies.map((copy) => copy.source)).toContain(`dist/apps/${result.app}`);
    }
  });

  it("should take an app's libs from its package.json dependencies, transitively", () => {
    const packages: Record<string, { dependencies?: Record<string, string> }> = {
      'apps/a': { dependencies: { '@mailwarden/feature': '*', pg: '8.0.0' } },
      'libs/feature': { dependencies: { '@mailwarden/data': '*' } },
      'libs/data': { dependencies: { '@mailwarden/util': '*' } },
      'libs/util': {},
    };
    expect(images.libClosure('a', (dir) => packages[dir])).toEqual(['data', 'feature', 'util']);
  });

  it('should list the copies of the final stage only, joining continued lines', () => {
    const text = 'FROM node AS build\nCOPY . .\nFROM node\nCOPY --from=build /app/dist/apps/x \\\n  dist/apps/x\nCOPY --from=build /app/a /app/b dest/\n';
    expect(images.listImageContents(text).copies).toEqual([
      { from: 'build', source: 'dist/apps/x', target: 'dist/apps/x' },
      { from: 'build', source: 'a', target: 'dest/' },
      { from: 'build', source: 'b', target: 'dest/' },
    ]);
  });

  it('should fail an image that copies the whole dist', () => {
    const text = scanner.replace('COPY --from=build /app/dist/apps/scanner dist/apps/scanner', 'COPY --from=build /app/dist dist');
    expect(images.checkImage('scanner', text, { apps: APPS, libs: scannerLibs })).toEqual(
      expect.arrayContaining(['copies the whole dist/', 'lacks dist/apps/scanner']),
    );
  });

  it("should fail an image that gets another app's output", () => {
    const text = `${scanner}COPY --from=build /app/dist/apps/admin-api dist/apps/admin-api\n`;
    expect(images.checkImage('scanner', text, { apps: APPS, libs: scannerLibs })).toEqual(["copies another app's output: dist/apps/admin-api"]);
  });

  it('should fail an image with a lib its app does not depend on, or without one it does', () => {
    const extra = `${scanner}COPY --from=build /app/libs/auth/dist libs/auth/dist\n`;
    expect(images.checkImage('scanner', extra, { apps: APPS, libs: scannerLibs })).toEqual([
      "copies libs/auth/dist, which is not scanner's output, one of its libs or a listed extra",
    ]);
    const missing = scanner.replace('COPY --from=build /app/libs/policy/dist libs/policy/dist\n', '');
    expect(images.checkImage('scanner', missing, { apps: APPS, libs: scannerLibs })).toEqual(['lacks libs/policy/dist']);
  });

  it('should fail an image whose node_modules is not the pruned install of its own workspace', () => {
    const unpruned = scanner.replace('COPY --from=deps /app/node_modules node_modules', 'COPY --from=build /app/node_modules node_modules');
    expect(images.checkImage('scanner', unpruned, { apps: APPS, libs: scannerLibs })).toEqual([
      'node_modules comes from stage "build", which is not `npm ci --omit=dev --workspace=@mailwarden/scanner`',
    ]);
    const otherApp = scanner.replace('--workspace=@mailwarden/scanner', '--workspace=@mailwarden/admin-api');
    expect(images.checkImage('scanner', otherApp, { apps: APPS, libs: scannerLibs })).toHaveLength(1);
  });
});

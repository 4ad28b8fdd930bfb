import { readFileSync } from 'node:fs';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** shared/conformance/samples/mimecast, read in place (Elastic License data: never copied into the repo). */
export const MIMECAST_SAMPLES = path.resolve(repoRoot, '..', 'shared', 'conformance', 'samples', 'mimecast');

export function readSampleJson<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(path.join(MIMECAST_SAMPLES, name), 'utf8')) as T;
}

export function readSampleNdjson(name: string): Array<Record<string, unknown>> {
  return readFileSync(path.join(MIMECAST_SAMPLES, name), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

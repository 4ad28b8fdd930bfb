import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The parts of a V8 .cpuprofile (node --cpu-prof) this summary reads. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  /** Microseconds since the previous sample; timeDeltas[i] precedes samples[i]. */
  timeDeltas: number[];
}

export interface SelfTime {
  fn: string;
  ms: number;
  /** Share of the sampled time that was not idle. */
  percent: number;
}

/** node_modules/<pkg>/... or the repo-relative path, so lines stay short. */
function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    return url.slice(modules + 'node_modules/'.length);
  }
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + 1) : url.replace(/^file:\/\//, '');
}

/**
 * Who a frame belongs to: an npm package (`@prisma/client`, `mailauth`), a compiled app or lib of this repo
 * (`apps/scanner`, `libs/db`), node's own JavaScript (`node`), or native/V8 work named by the function
 * (`(garbage collector)`, `writev`: system calls show up under the native function that made them).
 */
export function ownerOf(frame: { functionName: string; url: string }): string {
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url);
  if (modules) {
    return modules[1]!;
  }
  const ours = /\/dist\/((?:apps|libs|tools)\/[^/]+)/.exec(frame.url);
  if (ours) {
    return ours[1]!;
  }
  if (frame.url.startsWith('node:')) {
    return 'node';
  }
  return frame.url ? 'other' : `native ${frame.functionName || '(anonymous)'}`;
}

/** Adds each sample's interval (the delta to the next sample) to the key `keyOf` gives its frame. */
function sumSelfTime(profiles: readonly CpuProfile[], keyOf: (frame: CpuProfile['nodes'][number]['callFrame']) => string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const profile of profiles) {
    const keys = new Map(profile.nodes.map((node) => [node.id, keyOf(node.callFrame)]));
    profile.samples.forEach((nodeId, index) => {
      const key = keys.get(nodeId) ?? '(unknown)';
      totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[index + 1] ?? 0) / 1000);
    });
  }
  return totals;
}

function ranked(totals: Map<string, number>, limit: number): { top: SelfTime[]; busyMs: number } {
  for (const idle of ['(idle)', 'native (idle)']) {
    totals.delete(idle);
  }
  const busyMs = [...totals.values()].reduce((sum, ms) => sum + ms, 0);
  const top = [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([fn, ms]) => ({ fn, ms: Math.round(ms), percent: busyMs > 0 ? Math.round((ms / busyMs) * 1000) / 10 : 0 }));
  return { top, busyMs: Math.round(busyMs) };
}

/** Self time per owner ({@link ownerOf}): which package or part of the repo the CPU went to. */
export function selfTimeByOwner(profiles: readonly CpuProfile[], limit = 12): { top: SelfTime[]; busyMs: number } {
  return ranked(sumSelfTime(profiles, ownerOf), limit);
}

/**
 * Self time per function over one or more profiles (the same function in several processes adds up): each sample's
 * interval is the delta to the next sample. "(idle)" is left out of the list and of the percentages.
 */
export function topSelfTime(profiles: readonly CpuProfile[], limit = 15): { top: SelfTime[]; busyMs: number } {
  return ranked(
    sumSelfTime(profiles, (frame) => `${frame.functionName || '(anonymous)'}${frame.url ? ` ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : ''}`),
    limit,
  );
}

/** Every .cpuprofile in a folder. */
export function readProfiles(dir: string): CpuProfile[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.cpuprofile'))
    .map((file) => JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile);
}

/** `node dist/tools/bench/cpuprofile-summary.js <dir|file.cpuprofile> [limit]`: the top self-time functions. */
if (require.main === module) {
  const [target, limit] = process.argv.slice(2);
  if (!target) {
    console.error('usage: cpuprofile-summary.js <dir|file.cpuprofile> [limit]');
    process.exit(2);
  }
  const profiles = target.endsWith('.cpuprofile') ? [JSON.parse(readFileSync(target, 'utf8')) as CpuProfile] : readProfiles(target);
  const { top, busyMs } = topSelfTime(profiles, Number(limit ?? 15));
  console.log(`busy ${busyMs} ms sampled in ${profiles.length} profile(s)`);
  for (const entry of [...top, { fn: '--- by owner ---', ms: Number.NaN, percent: Number.NaN }, ...selfTimeByOwner(profiles).top]) {
    console.log(`${String(entry.ms).padStart(8)} ms ${entry.percent.toFixed(1).padStart(5)}%  ${entry.fn}`);
  }
}

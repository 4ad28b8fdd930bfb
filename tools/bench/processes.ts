import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** Every child still running, so an error, Ctrl-C or exit of the bench never leaves one behind. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) {
    child.kill('SIGKILL');
  }
});

export interface BenchChild {
  name: string;
  pid: number;
  /** Peak resident set size so far (VmHWM), MB; null once the process is gone. */
  peakRssMb(): number | null;
  /** CPU time used so far (user + system), ms; null once the process is gone. */
  cpuMs(): number | null;
  /** Peak RSS when it became ready (start-up alone), MB. */
  readyRssMb: number | null;
  /** Last lines of its stderr, for error messages. */
  errors(): string;
  /** SIGTERM (graceful: profiles are written), SIGKILL after 15 s. */
  stop(): Promise<void>;
  /** The processes of a {@link processGroup}. */
  members?: readonly BenchChild[];
}

export interface StartOptions {
  name: string;
  /** A compiled entry point under dist/, relative to the repo root. */
  script: string;
  args?: string[];
  env: Record<string, string>;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Resolves true once the process serves; polled every 100 ms for at most 60 s. */
  ready: (child: BenchChild, stdout: () => string) => Promise<boolean>;
  /** Called once with the pid when the process is ready. */
  onReady?: (pid: number) => void;
}

/** VmHWM of a live process, MB (Linux /proc). */
export function readPeakRssMb(pid: number): number | null {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** CPU time (utime + stime, /proc/<pid>/stat fields 14 and 15) of a live process, ms. */
export function readCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** USER_HZ: 100 on every Linux platform Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Starts `node dist/<script>` with its own environment and waits until it is ready. */
export async function startChild(options: StartOptions): Promise<BenchChild> {
  const script = path.join(REPO_ROOT, options.script);
  if (!existsSync(script)) {
    throw new Error(`${script} is missing: run \`npm run build\` first (npm run bench does)`);
  }
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', ...options.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  // Keep only the tails: the apps log every message at the default level.
  child.stdout!.on('data', (chunk: Buffer) => (stdout = (stdout + chunk.toString()).slice(-4000)));
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));

  const handle: BenchChild = {
    name: options.name,
    pid: child.pid!,
    peakRssMb: () => (child.exitCode === null && child.signalCode === null ? readPeakRssMb(child.pid!) : null),
    cpuMs: () => (child.exitCode === null && child.signalCode === null ? readCpuMs(child.pid!) : null),
    readyRssMb: null,
    errors: () => stderr.trim().split('\n').slice(-15).join('\n'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) {
        return;
      }
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${options.name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${stderr || stdout}`);
    }
    if (await options.ready(handle, () => stdout).catch(() => false)) {
      handle.readyRssMb = readPeakRssMb(handle.pid);
      options.onReady?.(handle.pid);
      return handle;
    }
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(`${options.name} was not ready within 60 s:\n${stderr || stdout}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Several processes of one app (issue 20: SMTP_REUSE_PORT, the kernel spreading connections over them) as one child
 * of the app's name: its CPU is the sum of theirs, its peak RSS (at start too) the largest of theirs, stop stops all.
 * One process: that process itself, so a run of one reads exactly as before.
 */
export function processGroup(name: string, members: readonly BenchChild[]): BenchChild {
  if (members.length === 1) {
    return members[0]!;
  }
  const sum = (values: Array<number | null>) => (values.some((value) => value === null) ? null : values.reduce<number>((total, value) => total + value!, 0));
  const max = (values: Array<number | null>) => (values.some((value) => value === null) ? null : Math.max(...(values as number[])));
  return {
    name,
    pid: members[0]!.pid,
    peakRssMb: () => max(members.map((member) => member.peakRssMb())),
    cpuMs: () => sum(members.map((member) => member.cpuMs())),
    readyRssMb: max(members.map((member) => member.readyRssMb)),
    errors: () => members.map((member) => `${member.name}: ${member.errors()}`).join('\n'),
    stop: async () => {
      await Promise.all(members.map((member) => member.stop()));
    },
    members,
  };
}

/** Ready once GET <url> answers 200 (the apps' /health: PostgreSQL and Redis reachable, listeners up). */
export function httpReady(url: string): () => Promise<boolean> {
  return async () => (await fetch(url, { signal: AbortSignal.timeout(2000) })).status === 200;
}

/** Stops children in parallel after reading their peak RSS, which is gone once they exit. */
export async function stopAll(children: readonly BenchChild[]): Promise<Record<string, number | null>> {
  const rss = Object.fromEntries(children.map((child) => [child.name, child.peakRssMb()]));
  await Promise.all(children.map((child) => child.stop()));
  return rss;
}

/** CPU ms each child has used so far, to subtract from a later reading. */
export function cpuSnapshot(children: readonly BenchChild[]): Record<string, number | null> {
  return Object.fromEntries(children.map((child) => [child.name, child.cpuMs()]));
}

/** CPU ms per message each child spent since `before` (start-up excluded), over `messages` messages. */
export function cpuPerMessage(children: readonly BenchChild[], before: Record<string, number | null>, messages: number): Record<string, number | null> {
  return Object.fromEntries(
    children.map((child) => {
      const now = child.cpuMs();
      const start = before[child.name];
      return [child.name, now === null || start == null || messages === 0 ? null : (now - start) / messages];
    }),
  );
}

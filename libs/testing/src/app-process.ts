import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** The repository root: the first folder up from here with tools/runtime (from src, or from dist/ when the bench runs compiled). */
function repositoryRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'tools', 'runtime', 'app-command.cjs'))) {
      return dir;
    }
    if (path.dirname(dir) === dir) {
      throw new Error(`no tools/runtime/app-command.cjs above ${from}`);
    }
  }
}

const ROOT = repositoryRoot(__dirname);

export interface AppProcess {
  child: ChildProcess;
  output: () => string;
  /** SIGKILL: no shutdown hooks run, as in a crash. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs a compiled app (dist/, built by `npm run build`, which `npm test` runs first) as its own process, so a
 * test can kill it with SIGKILL mid-work, as a crash would.
 */
// The launcher shared with npm start and the benchmark (a runtime file, not a project: loaded by path).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { appNodeArgs } = require(path.join(ROOT, 'tools', 'runtime', 'app-command.cjs')) as { appNodeArgs: (app: string) => string[] };

export async function startAppProcess(app: 'journal-ingest' | 'scanner' | 'admin-api', env: Record<string, string>, readyPattern: RegExp, timeoutMs = 30_000): Promise<AppProcess> {
  const main = path.join(ROOT, 'dist', 'apps', app, 'src', 'main.js');
  if (!existsSync(main)) {
    throw new Error(`${main} is missing: run \`npm run build\` first (npm test does)`);
  }
  const child = spawn(process.execPath, appNodeArgs(app), {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', ...env, LOG_FORMAT: 'json', LOG_LEVEL: 'log' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not ready in time: the process must not outlive the failed start (it would hold ports and the test database).
      child.kill('SIGKILL');
      reject(new Error(`${app} did not start within ${timeoutMs / 1000} s:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (readyPattern.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${app} exited with ${code} before it was ready:\n${output}`));
    });
  });
  return {
    child,
    output: () => output,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
      }
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
      }
      await exited;
    },
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port';

/**
 * A redis-server owned by one test file, on its own port on 127.0.0.1, with the append-only file on and fsynced
 * on every write, so the test can restart it under the apps and every acknowledged write is reloaded.
 */
export class OwnRedis {
  private child?: ChildProcess;

  private constructor(
    /** Temporary directory holding the append-only file. */
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<OwnRedis> {
    const dir = await mkdtemp(path.join(tmpdir(), 'mw-own-redis-'));
    const redis = new OwnRedis(dir, await freePort());
    try {
      await redis.startServer();
      return redis;
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** SIGTERM (Redis's SHUTDOWN: the AOF is flushed), down for `downMs`, then a new server on the same dir and port. */
  async restart(options: { downMs: number }): Promise<void> {
    await this.stop('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, options.downMs));
    await this.startServer();
  }

  /** Kills the server and removes its directory; safe to call twice. */
  async destroy(): Promise<void> {
    await this.stop('SIGKILL');
    await rm(this.dir, { recursive: true, force: true });
  }

  private async startServer(): Promise<void> {
    const logFile = path.join(this.dir, 'redis.log');
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--logfile', logFile];
    const persistence = ['--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no'];
    const child = spawn('redis-server', [...args, ...persistence], { stdio: 'ignore' });
    this.child = child;
    const failed = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code} at start, see ${logFile}`)));
    });
    failed.catch(() => undefined); // an exit after a good start is stop()'s business
    await Promise.race([this.waitUntilAnswering(), failed]);
  }

  /** PING answers once the server listens and has reloaded its AOF (before that it answers LOADING). */
  private async waitUntilAnswering(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const client = new Redis(this.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.ping();
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(`redis-server on port ${this.port} did not answer within 10 s: ${(error as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        client.disconnect();
      }
    }
  }

  private async stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }
}

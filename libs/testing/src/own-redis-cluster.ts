import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';

const run = promisify(execFile);

/** Whether `redis-server` (and `redis-cli`) can be run here; the cluster tests are skipped, saying so, when not. */
export function redisServerAvailable(): boolean {
  return ['redis-server', 'redis-cli'].every((command) => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0);
}

/**
 * A real three-master Redis Cluster owned by one test file: `redis-server --cluster-enabled yes` on three free
 * ports of 127.0.0.1, each with its own temporary directory (nodes.conf, no persistence), joined by
 * `redis-cli --cluster create … --cluster-yes`. `destroy` kills the servers and removes the directories.
 */
export class OwnRedisCluster {
  private readonly children: ChildProcess[] = [];

  private constructor(
    readonly dir: string,
    readonly ports: number[],
  ) {}

  static async start(masters = 3): Promise<OwnRedisCluster> {
    const dir = await mkdtemp(path.join(tmpdir(), 'mw-redis-cluster-'));
    const ports: number[] = [];
    for (let index = 0; index < masters; index++) {
      ports.push(await freePort());
    }
    const cluster = new OwnRedisCluster(dir, ports);
    try {
      for (const port of ports) {
        await cluster.startNode(port);
      }
      await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 60_000 });
      await cluster.waitUntilOk();
      return cluster;
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
  }

  /** The REDIS_CLUSTER_NODES value naming every master. */
  get nodes(): string {
    return this.ports.map((port) => `127.0.0.1:${port}`).join(',');
  }

  /** A REDIS_URL for the apps (credentials and TLS only: on a cluster the nodes come from REDIS_CLUSTER_NODES). */
  get url(): string {
    return `redis://127.0.0.1:${this.ports[0]}`;
  }

  /** Runs redis-cli against one node (e.g. CLUSTER KEYSLOT, DBSIZE). */
  async cli(port: number, ...args: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { timeout: 10_000 });
    return stdout.trim();
  }

  async destroy(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    this.children.length = 0;
    await rm(this.dir, { recursive: true, force: true });
  }

  private async startNode(port: number): Promise<void> {
    const nodeDir = path.join(this.dir, String(port));
    await mkdir(nodeDir, { recursive: true });
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', nodeDir, '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'];
    const options = ['--cluster-node-timeout', '5000', '--appendonly', 'no', '--save', '', '--daemonize', 'no', '--logfile', path.join(nodeDir, 'redis.log')];
    const child = spawn('redis-server', [...args, ...options], { stdio: 'ignore' });
    this.children.push(child);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`redis-server (cluster node ${port}) exited with ${child.exitCode}, see ${nodeDir}/redis.log`);
      }
      const pong = await this.cli(port, 'PING').catch(() => '');
      if (pong === 'PONG') return;
      if (Date.now() > deadline) throw new Error(`redis-server (cluster node ${port}) did not answer within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Until every node reports cluster_state:ok (slots assigned and agreed on). */
  private async waitUntilOk(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const states = await Promise.all(this.ports.map((port) => this.cli(port, 'CLUSTER', 'INFO').catch(() => '')));
      if (states.every((info) => /cluster_state:ok/.test(info))) return;
      if (Date.now() > deadline) throw new Error(`the Redis Cluster did not reach cluster_state:ok within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

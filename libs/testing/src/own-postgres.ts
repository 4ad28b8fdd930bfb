import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { userInfo, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { ensureDatabase, migrate } from '@mailwarden/db';
import { freePort } from './free-port';

const run = promisify(execFile);

/** PostgreSQL refuses to run as root: as root, the cluster's commands run as this OS user. */
const POSTGRES_OS_USER = 'postgres';

export type PostgresStopMode = 'immediate' | 'fast';

/** Where initdb and pg_ctl live: `pg_config --bindir`, else the newest /usr/lib/postgresql/<version>/bin. */
async function findPostgresBinDir(): Promise<string> {
  try {
    const { stdout } = await run('pg_config', ['--bindir']);
    const dir = stdout.trim();
    if (existsSync(path.join(dir, 'initdb'))) {
      return dir;
    }
  } catch {
    // No pg_config on PATH: fall back to the Debian layout.
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((name) => existsSync(path.join(root, name, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) {
    throw new Error('no PostgreSQL server binaries found (pg_config --bindir, /usr/lib/postgresql/*/bin)');
  }
  return path.join(root, newest, 'bin');
}

/**
 * A PostgreSQL cluster owned by one test file (its own data directory and port on 127.0.0.1), so the test can
 * stop and restart the server under the apps without touching the machine's shared PostgreSQL.
 */
export class OwnPostgres {
  private constructor(
    private readonly binDir: string,
    /** Temporary directory holding the data directory, the socket and the server log. */
    readonly dir: string,
    readonly port: number,
    /** How long initdb took (ms), for reports. */
    readonly initMs: number,
  ) {}

  /** initdb into a fresh temporary directory (trust auth, fsync on at run time) and start the server. */
  static async start(): Promise<OwnPostgres> {
    const binDir = await findPostgresBinDir();
    const dir = await mkdtemp(path.join(tmpdir(), 'mw-own-pg-'));
    try {
      if (userInfo().uid === 0) {
        await chown(dir, ...(await postgresOsIds()));
      }
      const startedAt = Date.now();
      // --no-sync only skips the fsync of initdb's own files; the running server keeps fsync on.
      await runAsPostgres(path.join(binDir, 'initdb'), ['-D', path.join(dir, 'data'), '--no-sync', '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C']);
      const cluster = new OwnPostgres(binDir, dir, await freePort(), Date.now() - startedAt);
      await cluster.startServer();
      return cluster;
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * A streaming replica of this cluster: `pg_basebackup -R` (fast checkpoint, WAL streamed) into a directory of its
   * own, started as a hot standby on a port of its own. It refuses writes and follows the primary's WAL; `destroy()`
   * it before the primary.
   */
  async startReplica(): Promise<OwnPostgres> {
    const dir = await mkdtemp(path.join(tmpdir(), 'mw-own-pg-replica-'));
    try {
      if (userInfo().uid === 0) {
        await chown(dir, ...(await postgresOsIds()));
      }
      const startedAt = Date.now();
      await runAsPostgres(path.join(this.binDir, 'pg_basebackup'), [
        ...['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-D', path.join(dir, 'data')],
        ...['-R', '-X', 'stream', '--checkpoint=fast', '--no-sync'],
      ]);
      const replica = new OwnPostgres(this.binDir, dir, await freePort(), Date.now() - startedAt);
      await replica.startServer();
      return replica;
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Waits until `replica` (made by {@link startReplica}) has replayed all the WAL this cluster had flushed when called,
   * polling every 50 ms, at most 10 s; throws when it has not.
   */
  async waitForReplay(replica: OwnPostgres, database: string): Promise<void> {
    const primary = new Client({ connectionString: this.url(database) });
    const standby = new Client({ connectionString: replica.url(database) });
    await primary.connect();
    await standby.connect();
    try {
      const { rows } = await primary.query<{ lsn: string }>('SELECT pg_current_wal_flush_lsn()::text AS "lsn"');
      for (let attempt = 0; attempt < 200; attempt++) {
        const replayed = await standby.query<{ done: boolean }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS "done"', [rows[0]!.lsn]);
        if (replayed.rows[0]!.done) {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`the standby on port ${replica.port} did not replay up to ${rows[0]!.lsn}`);
    } finally {
      await Promise.all([primary.end(), standby.end()]);
    }
  }

  url(database: string): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${encodeURIComponent(database)}`;
  }

  /** Creates `database` and applies the repo's migrations to it (the offline migrator the test setup uses). */
  async createMigratedDatabase(database: string): Promise<string> {
    const url = this.url(database);
    await ensureDatabase(url);
    await migrate({ databaseUrl: url });
    return url;
  }

  /**
   * Stops the server (`immediate`: no checkpoint, clients cut, crash recovery at the next start; `fast`: clients
   * cut, clean checkpoint), keeps it down for `downMs`, and starts it again on the same port and data.
   */
  async restart(options: { mode: PostgresStopMode; downMs: number }): Promise<void> {
    await this.stop(options.mode);
    await new Promise((resolve) => setTimeout(resolve, options.downMs));
    await this.startServer();
  }

  async stop(mode: PostgresStopMode = 'fast'): Promise<void> {
    await this.pgCtl(['stop', '-m', mode]);
  }

  /** Stops the server if it runs and removes its directory; safe to call after a failed start or twice. */
  async destroy(): Promise<void> {
    if (existsSync(path.join(this.dir, 'data', 'postmaster.pid'))) {
      await this.stop('immediate').catch(() => undefined);
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  private async startServer(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=on`;
    await this.pgCtl(['start', '-t', '30', '-l', path.join(this.dir, 'server.log'), '-o', options]);
  }

  private async pgCtl(args: string[]): Promise<void> {
    await runAsPostgres(path.join(this.binDir, 'pg_ctl'), ['-D', path.join(this.dir, 'data'), '-w', ...args]);
  }
}

async function postgresOsIds(): Promise<[number, number]> {
  const { stdout: uid } = await run('id', ['-u', POSTGRES_OS_USER]);
  const { stdout: gid } = await run('id', ['-g', POSTGRES_OS_USER]);
  return [Number(uid.trim()), Number(gid.trim())];
}

async function runAsPostgres(command: string, args: string[]): Promise<void> {
  const [file, fullArgs] = userInfo().uid === 0 ? ['runuser', ['-u', POSTGRES_OS_USER, '--', command, ...args]] : [command, args];
  try {
    await run(file, fullArgs, { cwd: tmpdir() });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${path.basename(command)} ${args.join(' ')} failed: ${(error as Error).message}\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

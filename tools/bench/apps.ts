import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BenchEnvironment } from './bench-env';
import { startPostfix, startRspamd, type PeerProcess } from './peers';
import { httpReady, processGroup, REPO_ROOT, startChild, type BenchChild } from './processes';

// The apps' V8 flags, as npm start and Docker give them (a runtime file, loaded by path: dist/ has no copy).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { APP_NODE_FLAGS } = require(path.join(REPO_ROOT, 'tools', 'runtime', 'app-command.cjs')) as { APP_NODE_FLAGS: string[] };

/** A TCP port on 127.0.0.1 that is free right now (libs/testing has one too, but it is not compiled into dist/). */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

export type BaselineKind = 'discard' | 'fsync' | 'mailauth';

export interface StartedApp {
  /** The app's process, or its processes as one ({@link processGroup}: CPU summed, peak RSS the largest). */
  child: BenchChild;
  /** SMTP port (journal ingest, gateway front; shared by all its processes) or HTTP port (admin API). */
  port: number;
  /** /metrics of each of its processes (journal ingest: where its copies' scans ran; gateway: which deliveries went to the queue). */
  metricsUrls: string[];
}

/**
 * Starts the compiled apps and the baseline servers as child processes on free ports. Every app gets the bench's
 * database, Redis prefix and DNS, per-client limits out of the way (one client sends everything here), and the
 * default LOG_LEVEL (its JSON lines go to a pipe whose tail is kept, as a log shipper would read them).
 */
export class AppLauncher {
  constructor(
    private readonly env: BenchEnvironment,
    private readonly dnsServer: string,
    private readonly spoolDir: string,
    private readonly profileDir: string | null,
    /**
     * Processes of the journal ingest and of the gateway scanner (`--smtp-processes`, issue 20): more than one share
     * the SMTP port (SMTP_REUSE_PORT, the kernel spreads connections over them), each with its own HTTP port.
     */
    private readonly smtpProcesses = 1,
    /** Where the peers (Postfix, rspamd) get their private configuration, queue and caches. */
    private readonly peersDir = path.join(path.dirname(spoolDir), 'peers'),
  ) {}

  /** Debian's Postfix from a private configuration (discard transport) on a free port. */
  async postfix(): Promise<{ peer: PeerProcess; port: number }> {
    const port = await freePort();
    return { peer: await startPostfix(port), port };
  }

  /** rspamd (DKIM, SPF, DMARC, ARC only) from a private configuration, on a free port, resolving through the bench DNS. */
  async rspamd(): Promise<{ peer: PeerProcess; port: number }> {
    mkdirSync(this.peersDir, { recursive: true });
    const port = await freePort();
    return { peer: await startRspamd(this.peersDir, port, this.dnsServer, path.join(this.peersDir, 'rspamd-hs-cache')), port };
  }

  async baseline(kind: BaselineKind, port?: number): Promise<StartedApp> {
    const listen = port ?? (await freePort());
    const child = await startChild({
      name: `baseline-${kind}`,
      script: 'dist/tools/bench/baseline-server.js',
      args: [kind, String(listen), '--dns', this.dnsServer, '--dir', this.spoolDir],
      env: {},
      ready: async (_child, stdout) => stdout().includes('ready'),
    });
    return { child, port: listen, metricsUrls: [] };
  }

  /** The journal ingest; `inlineScan`: it scans the copies it stored (the bench's DNS, as the scanner's), else queues them. */
  async journalIngest(inlineScan: boolean): Promise<StartedApp> {
    return this.smtpApp('journal-ingest', 'journal-ingest', this.smtpProcesses, async (smtpPort, httpPort) => ({
      JOURNAL_SMTP_PORT: String(smtpPort),
      JOURNAL_HTTP_PORT: String(httpPort),
      DNS_SERVERS: this.dnsServer,
      INGEST_INLINE_SCAN: inlineScan ? 'on' : 'off',
    }));
  }

  /** A scanner; role `all` (the gateway front with its checks and delivery) runs as `--smtp-processes` processes. */
  async scanner(role: 'worker' | 'all', name = role === 'all' ? 'scanner' : 'scanner-worker', extraEnv: Record<string, string> = {}): Promise<StartedApp> {
    return this.smtpApp(name, 'scanner', role === 'all' ? this.smtpProcesses : 1, async (smtpPort, httpPort) => ({
      SCANNER_ROLE: role,
      SCANNER_SMTP_PORT: String(smtpPort),
      SCANNER_HTTP_PORT: String(httpPort),
      JOURNAL_HTTP_PORT: String(await freePort()),
      DNS_SERVERS: this.dnsServer,
      ...extraEnv,
    }));
  }

  async adminApi(): Promise<StartedApp> {
    const port = await freePort();
    // The searches come from one key: the per-key rate limit (600/min by default) would measure the limiter.
    const child = await this.app('admin-api', { ADMIN_API_PORT: String(port), API_RATE_LIMIT_PER_MINUTE: '1000000', PUBLIC_BASE_URL: `http://127.0.0.1:${port}` }, `http://127.0.0.1:${port}/health`);
    return { child, port, metricsUrls: [] };
  }

  /**
   * `processes` processes of an SMTP app on one SMTP port, each with its own HTTP port (/health, /metrics); more than
   * one listen with SMTP_REUSE_PORT. Named `name` when alone, `name#1`, `name#2`… within their group otherwise.
   */
  private async smtpApp(name: string, app: string, processes: number, env: (smtpPort: number, httpPort: number) => Promise<Record<string, string>>): Promise<StartedApp> {
    const smtpPort = await freePort();
    const httpPorts: number[] = [];
    const members: BenchChild[] = [];
    try {
      for (let index = 0; index < processes; index++) {
        const httpPort = await freePort();
        httpPorts.push(httpPort);
        const shared: Record<string, string> = processes > 1 ? { SMTP_REUSE_PORT: 'true' } : {};
        members.push(await this.app(processes > 1 ? `${name}#${index + 1}` : name, { ...(await env(smtpPort, httpPort)), ...shared }, `http://127.0.0.1:${httpPort}/health`, app));
      }
    } catch (error) {
      await Promise.all(members.map((member) => member.stop()));
      throw error;
    }
    return { child: processGroup(name, members), port: smtpPort, metricsUrls: httpPorts.map((port) => `http://127.0.0.1:${port}/metrics`) };
  }

  private app(name: string, env: Record<string, string>, healthUrl: string, app = name): Promise<BenchChild> {
    const profile = this.profileDir ? path.join(this.profileDir, app) : null;
    if (profile) {
      mkdirSync(profile, { recursive: true });
    }
    return startChild({
      name,
      script: `dist/apps/${app}/src/main.js`,
      env: this.env.appEnv({
        ...env,
        SMTP_MAX_MESSAGES_PER_MINUTE_PER_CLIENT: '100000000',
        SMTP_MAX_CONNECTIONS_PER_CLIENT: '1000',
        SMTP_MAX_CONNECTIONS: '1000',
        SMTP_HOSTNAME: 'mx.mailwarden.bench.test',
        ...(profile ? { MW_BENCH_PROFILE_DIR: profile } : {}),
      }),
      nodeArgs: [...APP_NODE_FLAGS, ...(profile ? ['-r', path.join(REPO_ROOT, 'dist', 'tools', 'bench', 'profiler-preload.js')] : [])],
      ready: httpReady(healthUrl),
      // Profiling starts once the app serves: its start-up is not what the load measures.
      onReady: profile ? (pid) => process.kill(pid, 'SIGWINCH') : undefined,
    });
  }
}

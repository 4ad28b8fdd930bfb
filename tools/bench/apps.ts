import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BenchEnvironment } from './bench-env';
import { startPostfix, startRspamd, type PeerProcess } from './peers';
import { httpReady, REPO_ROOT, startChild, type BenchChild } from './processes';

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
  child: BenchChild;
  /** SMTP port (journal ingest, gateway front) or HTTP port (admin API). */
  port: number;
  /** Its /metrics (journal ingest: where its copies' scans ran; gateway: which deliveries went to the queue). */
  metricsUrl?: string;
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
    return { child, port: listen };
  }

  /** The journal ingest; `inlineScan`: it scans the copies it stored (the bench's DNS, as the scanner's), else queues them. */
  async journalIngest(inlineScan: boolean): Promise<StartedApp> {
    const smtpPort = await freePort();
    const httpPort = await freePort();
    const env = { JOURNAL_SMTP_PORT: String(smtpPort), JOURNAL_HTTP_PORT: String(httpPort), DNS_SERVERS: this.dnsServer, INGEST_INLINE_SCAN: inlineScan ? 'on' : 'off' };
    const child = await this.app('journal-ingest', env, `http://127.0.0.1:${httpPort}/health`);
    return { child, port: smtpPort, metricsUrl: `http://127.0.0.1:${httpPort}/metrics` };
  }

  async scanner(role: 'worker' | 'all', name = role === 'all' ? 'scanner' : 'scanner-worker', extraEnv: Record<string, string> = {}): Promise<StartedApp> {
    const smtpPort = await freePort();
    const httpPort = await freePort();
    const env = { SCANNER_ROLE: role, SCANNER_SMTP_PORT: String(smtpPort), SCANNER_HTTP_PORT: String(httpPort), JOURNAL_HTTP_PORT: String(await freePort()), DNS_SERVERS: this.dnsServer, ...extraEnv };
    const child = await this.app(name, env, `http://127.0.0.1:${httpPort}/health`, 'scanner');
    return { child, port: smtpPort, metricsUrl: `http://127.0.0.1:${httpPort}/metrics` };
  }

  async adminApi(): Promise<StartedApp> {
    const port = await freePort();
    // The searches come from one key: the per-key rate limit (600/min by default) would measure the limiter.
    const child = await this.app('admin-api', { ADMIN_API_PORT: String(port), API_RATE_LIMIT_PER_MINUTE: '1000000', PUBLIC_BASE_URL: `http://127.0.0.1:${port}` }, `http://127.0.0.1:${port}/health`);
    return { child, port };
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

import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from './config-error';
import { describeConfig, loadConfig } from './config';

describe('loadConfig', () => {
  it('should give local defaults when nothing is set', () => {
    const config = loadConfig('scanner', {});
    expect(config.DATABASE_URL).toBe('postgresql://postgres@127.0.0.1:5432/mailwarden');
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.JOURNAL_SMTP_PORT).toBe(2525);
    expect(config.SCANNER_SMTP_PORT).toBe(2526);
    expect(config.SCANNER_ROLE).toBe('all');
  });

  it('should default the admin API to port 3000', () => {
    expect(loadConfig('admin-api', {}).ADMIN_API_PORT).toBe(3000);
  });

  it('should name the variable that holds a bad value', () => {
    expect(() => loadConfig('journal-ingest', { JOURNAL_SMTP_PORT: 'seventy' })).toThrow(/JOURNAL_SMTP_PORT/);
    expect(() => loadConfig('journal-ingest', { DATABASE_URL: 'mysql://x@y/z' })).toThrow(/DATABASE_URL .*postgresql/);
    expect(() => loadConfig('admin-api', { CURSOR_SECRET: 'short' })).toThrow(/CURSOR_SECRET .*32 characters/);
    expect(loadConfig('admin-api', { CURSOR_SECRET: 'x'.repeat(32) }).CURSOR_SECRET).toBe('x'.repeat(32));
  });

  it('should take Redis Cluster seed nodes as host:port pairs, or none', () => {
    expect(loadConfig('scanner', {}).REDIS_CLUSTER_NODES).toBe('');
    expect(loadConfig('scanner', { REDIS_CLUSTER_NODES: '10.0.0.1:7000,redis-b:7001' }).REDIS_CLUSTER_NODES).toBe('10.0.0.1:7000,redis-b:7001');
    expect(() => loadConfig('scanner', { REDIS_CLUSTER_NODES: 'redis-a,redis-b:7001' })).toThrow(/REDIS_CLUSTER_NODES .*host:port/);
  });

  it('should report every bad variable at once', () => {
    try {
      loadConfig('admin-api', { ADMIN_API_PORT: '-1', REDIS_URL: 'http://nope' });
      throw new Error('loadConfig accepted bad values');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect(Object.keys((error as ConfigError).problems).sort()).toEqual(['ADMIN_API_PORT', 'REDIS_URL']);
    }
  });

  it('should want exactly one Microsoft 365 credential once a client id is set', () => {
    expect(loadConfig('admin-api', {}).M365_GRAPH_BASE_URL).toBe('https://graph.microsoft.com');
    expect(() => loadConfig('admin-api', { M365_CLIENT_ID: 'app' })).toThrow(/M365_CLIENT_SECRET is required/);
    expect(() => loadConfig('scanner', { M365_CLIENT_ID: 'app', M365_CERTIFICATE_FILE: '/c.pem' })).toThrow(/M365_PRIVATE_KEY_FILE is required/);
    expect(() => loadConfig('scanner', { M365_CLIENT_ID: 'app', M365_CLIENT_SECRET: 's', M365_CERTIFICATE_FILE: '/c.pem' })).toThrow(/configure one credential/);
    expect(loadConfig('scanner', { M365_CLIENT_ID: 'app', M365_CLIENT_SECRET: 's' }).M365_CLIENT_SECRET).toBe('s');
    expect(() => loadConfig('admin-api', { M365_GRAPH_BASE_URL: 'not a url' })).toThrow(/M365_GRAPH_BASE_URL/);
  });

  it('should parse sizes with units', () => {
    expect(loadConfig('journal-ingest', { SMTP_MAX_MESSAGE_SIZE: '10mb' }).SMTP_MAX_MESSAGE_SIZE).toBe(10 * 1024 * 1024);
  });

  it('should bound the journal ingest group commit by INGEST_COMMIT_MAX_BATCH, a whole number of at least 1', () => {
    expect(loadConfig('journal-ingest', {}).INGEST_COMMIT_MAX_BATCH).toBe(64);
    expect(loadConfig('journal-ingest', { INGEST_COMMIT_MAX_BATCH: '1' }).INGEST_COMMIT_MAX_BATCH).toBe(1);
    expect(() => loadConfig('journal-ingest', { INGEST_COMMIT_MAX_BATCH: '0' })).toThrow(/INGEST_COMMIT_MAX_BATCH/);
    expect(() => loadConfig('journal-ingest', { INGEST_COMMIT_MAX_BATCH: '2.5' })).toThrow(/INGEST_COMMIT_MAX_BATCH/);
  });

  it('should return a frozen object holding only its own settings', () => {
    const config = loadConfig('admin-api', { UNRELATED: 'x' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(config).not.toHaveProperty('UNRELATED');
  });

  it('should read the in-process scan settings of the journal ingest (issue 20), on by default', () => {
    expect(loadConfig('journal-ingest', {})).toMatchObject({ INGEST_INLINE_SCAN: true, INGEST_INLINE_SCAN_CONCURRENCY: 16, INGEST_INLINE_SCAN_BACKLOG: 256, INGEST_INLINE_SCAN_BACKLOG_BYTES: 32 * 1024 * 1024, DNS_TIMEOUT_MS: 5000 });
    expect(loadConfig('journal-ingest', { INGEST_INLINE_SCAN: 'off', INGEST_INLINE_SCAN_BACKLOG_BYTES: '8mb' })).toMatchObject({ INGEST_INLINE_SCAN: false, INGEST_INLINE_SCAN_BACKLOG_BYTES: 8 * 1024 * 1024 });
    expect(() => loadConfig('journal-ingest', { INGEST_INLINE_SCAN: 'maybe' })).toThrow(/INGEST_INLINE_SCAN/);
    expect(() => loadConfig('journal-ingest', { INGEST_INLINE_SCAN_CONCURRENCY: '0' })).toThrow(/INGEST_INLINE_SCAN_CONCURRENCY must be 1 or more/);
    expect(loadConfig('journal-ingest', { INGEST_INLINE_SCAN: 'off', INGEST_INLINE_SCAN_CONCURRENCY: '0' }).INGEST_INLINE_SCAN_CONCURRENCY).toBe(0);
  });

  it('should share the SMTP port between processes (SO_REUSEPORT) only when SMTP_REUSE_PORT says so, in both SMTP apps', () => {
    expect(loadConfig('journal-ingest', {}).SMTP_REUSE_PORT).toBe(false);
    expect(loadConfig('scanner', {}).SMTP_REUSE_PORT).toBe(false);
    expect(loadConfig('journal-ingest', { SMTP_REUSE_PORT: 'true' }).SMTP_REUSE_PORT).toBe(true);
    expect(loadConfig('scanner', { SMTP_REUSE_PORT: '1' }).SMTP_REUSE_PORT).toBe(true);
    expect(() => loadConfig('scanner', { SMTP_REUSE_PORT: 'both' })).toThrow(/SMTP_REUSE_PORT/);
  });

  it('should read the in-process delivery settings of the gateway (issue 20), on by default, and refuse nonsense by name', () => {
    expect(loadConfig('scanner', {})).toMatchObject({ GATEWAY_INLINE_DELIVERY: true, GATEWAY_INLINE_DELIVERY_CONCURRENCY: 8, GATEWAY_INLINE_DELIVERY_BACKLOG: 256, GATEWAY_INLINE_DELIVERY_BACKLOG_BYTES: 32 * 1024 * 1024 });
    expect(loadConfig('scanner', { GATEWAY_INLINE_DELIVERY: 'off', GATEWAY_INLINE_DELIVERY_BACKLOG_BYTES: '4mb', GATEWAY_INLINE_DELIVERY_BACKLOG: '0' })).toMatchObject({
      GATEWAY_INLINE_DELIVERY: false,
      GATEWAY_INLINE_DELIVERY_BACKLOG_BYTES: 4 * 1024 * 1024,
      GATEWAY_INLINE_DELIVERY_BACKLOG: 0,
    });
    expect(() => loadConfig('scanner', { GATEWAY_INLINE_DELIVERY: 'sometimes' })).toThrow(/GATEWAY_INLINE_DELIVERY/);
    expect(() => loadConfig('scanner', { GATEWAY_INLINE_DELIVERY_CONCURRENCY: '0' })).toThrow(/GATEWAY_INLINE_DELIVERY_CONCURRENCY must be 1 or more/);
    for (const value of ['-1', '1.5', 'lots']) {
      expect(() => loadConfig('scanner', { GATEWAY_INLINE_DELIVERY_BACKLOG: value })).toThrow(/GATEWAY_INLINE_DELIVERY_BACKLOG/);
    }
    // Only a process that runs both roles delivers in process: the others never read the concurrency.
    expect(loadConfig('scanner', { SCANNER_ROLE: 'smtp', GATEWAY_INLINE_DELIVERY_CONCURRENCY: '0' }).GATEWAY_INLINE_DELIVERY_CONCURRENCY).toBe(0);
    expect(loadConfig('scanner', { GATEWAY_INLINE_DELIVERY: 'off', GATEWAY_INLINE_DELIVERY_CONCURRENCY: '0' }).GATEWAY_INLINE_DELIVERY_CONCURRENCY).toBe(0);
  });

  it('should refuse a backlog or a replica lag bound that cannot mean anything (negative, fractional, not a number)', () => {
    for (const value of ['-5', '2.5', 'many']) {
      expect(() => loadConfig('journal-ingest', { INGEST_INLINE_SCAN_BACKLOG: value })).toThrow(/INGEST_INLINE_SCAN_BACKLOG/);
    }
    // 0: no copy waits for a slot (only the running scans; the rest go to the queue).
    expect(loadConfig('journal-ingest', { INGEST_INLINE_SCAN_BACKLOG: '0' }).INGEST_INLINE_SCAN_BACKLOG).toBe(0);
    for (const value of ['-1', 'soon']) {
      expect(() => loadConfig('admin-api', { DATABASE_READ_MAX_LAG_SECONDS: value })).toThrow(/DATABASE_READ_MAX_LAG_SECONDS/);
    }
    expect(loadConfig('admin-api', { DATABASE_READ_MAX_LAG_SECONDS: '0.5' }).DATABASE_READ_MAX_LAG_SECONDS).toBe(0.5);
    expect(loadConfig('admin-api', { DATABASE_READ_MAX_LAG_SECONDS: '0' }).DATABASE_READ_MAX_LAG_SECONDS).toBe(0);
  });

  it("should read the retention purge's pace (issue 20) and refuse one that would never delete or has no bound", () => {
    expect(loadConfig('scanner', {})).toMatchObject({ RETENTION_PURGE_BATCH: 500, RETENTION_PURGE_RATE: 200 });
    expect(loadConfig('scanner', { RETENTION_PURGE_BATCH: '1', RETENTION_PURGE_RATE: '0.5' })).toMatchObject({ RETENTION_PURGE_BATCH: 1, RETENTION_PURGE_RATE: 0.5 });
    expect(loadConfig('scanner', { RETENTION_PURGE_BATCH: '10000', RETENTION_PURGE_RATE: '5000' })).toMatchObject({ RETENTION_PURGE_BATCH: 10_000, RETENTION_PURGE_RATE: 5000 });
    for (const value of ['0', '-1', '2.5', 'many', '10001']) {
      expect(() => loadConfig('scanner', { RETENTION_PURGE_BATCH: value })).toThrow(/RETENTION_PURGE_BATCH/);
    }
    for (const value of ['0', '-3', 'fast', 'Infinity', 'NaN']) {
      expect(() => loadConfig('scanner', { RETENTION_PURGE_RATE: value })).toThrow(/RETENTION_PURGE_RATE/);
    }
  });

  it('should describe every variable with its default', () => {
    const names = describeConfig('journal-ingest').map((entry) => entry.name);
    expect(names).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'JOURNAL_SMTP_PORT']));
  });

  describe('ARC sealing settings', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mw-config-arc-'));
    const write = (name: string, text: string) => {
      writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    const rsa = write('rsa.pem', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const ed = write('ed.pem', generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const weak = write('weak.pem', generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const ec = write('ec.pem', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const junk = write('junk.pem', 'not a key');
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('should leave sealing off by default', () => {
      const config = loadConfig('scanner', {});
      expect([config.ARC_SEAL_DOMAIN, config.ARC_SEAL_SELECTOR, config.ARC_SEAL_KEY_FILE]).toEqual(['', '', '']);
    });

    it('should accept an RSA 2048 or an Ed25519 key with a domain and selector', () => {
      expect(loadConfig('scanner', { ARC_SEAL_DOMAIN: 'MW.Example', ARC_SEAL_SELECTOR: 'arc2026', ARC_SEAL_KEY_FILE: rsa }).ARC_SEAL_DOMAIN).toBe('mw.example');
      expect(loadConfig('scanner', { ARC_SEAL_DOMAIN: 'mw.example', ARC_SEAL_SELECTOR: 'arc.ed', ARC_SEAL_KEY_FILE: ed }).ARC_SEAL_KEY_FILE).toBe(ed);
    });

    it('should refuse a missing, unreadable, weak or unsupported key naming the variable', () => {
      const settings = { ARC_SEAL_DOMAIN: 'mw.example', ARC_SEAL_SELECTOR: 'arc' };
      expect(() => loadConfig('scanner', { ...settings, ARC_SEAL_KEY_FILE: path.join(dir, 'absent.pem') })).toThrow(/ARC_SEAL_KEY_FILE .*cannot read .*ENOENT/);
      expect(() => loadConfig('scanner', { ...settings, ARC_SEAL_KEY_FILE: junk })).toThrow(/ARC_SEAL_KEY_FILE .*PEM private key/);
      expect(() => loadConfig('scanner', { ...settings, ARC_SEAL_KEY_FILE: weak })).toThrow(/ARC_SEAL_KEY_FILE .*1024 bits/);
      expect(() => loadConfig('scanner', { ...settings, ARC_SEAL_KEY_FILE: ec })).toThrow(/ARC_SEAL_KEY_FILE .*Ed25519/);
    });

    it('should refuse a selector or domain that would break out of its tag', () => {
      expect(() => loadConfig('scanner', { ARC_SEAL_DOMAIN: 'mw.example; s=evil', ARC_SEAL_SELECTOR: 'arc', ARC_SEAL_KEY_FILE: rsa })).toThrow(/ARC_SEAL_DOMAIN .*DNS name/);
      expect(() => loadConfig('scanner', { ARC_SEAL_DOMAIN: 'mw.example', ARC_SEAL_SELECTOR: 'a b', ARC_SEAL_KEY_FILE: rsa })).toThrow(/ARC_SEAL_SELECTOR .*DNS name/);
    });

    it('should refuse a partial setting, naming what is missing', () => {
      try {
        loadConfig('scanner', { ARC_SEAL_DOMAIN: 'mw.example' });
        throw new Error('loadConfig accepted a partial ARC setting');
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect(Object.keys((error as ConfigError).problems).sort()).toEqual(['ARC_SEAL_KEY_FILE', 'ARC_SEAL_SELECTOR']);
      }
    });
  });
});

describe('mailflow settings (admin API)', () => {
  it('should leave Exchange automation off by default and read host, certificate name and ranges', () => {
    const off = loadConfig('admin-api', {});
    expect([off.MAILFLOW_SCANNER_HOST, off.MAILFLOW_SCANNER_CERT_NAME, off.MAILFLOW_SCANNER_IP_RANGES]).toEqual(['', '', '']);
    expect(off.M365_EXCHANGE_BASE_URL).toBe('https://outlook.office365.com');
    const on = loadConfig('admin-api', { MAILFLOW_SCANNER_HOST: 'MX-In.Mailwarden.example', MAILFLOW_SCANNER_IP_RANGES: ' 203.0.113.0/24, 2001:DB8::/48,198.51.100.7 ' });
    expect(on.MAILFLOW_SCANNER_HOST).toBe('mx-in.mailwarden.example');
    expect(on.MAILFLOW_SCANNER_IP_RANGES).toBe('203.0.113.0/24,2001:db8::/48,198.51.100.7');
  });

  it('should refuse a bad range or host, and a certificate name or range without a host, naming the variable', () => {
    expect(() => loadConfig('admin-api', { MAILFLOW_SCANNER_HOST: 'mx.example', MAILFLOW_SCANNER_IP_RANGES: '203.0.113.0/33' })).toThrow(/MAILFLOW_SCANNER_IP_RANGES .*'203\.0\.113\.0\/33'/);
    expect(() => loadConfig('admin-api', { MAILFLOW_SCANNER_HOST: 'mx.example', MAILFLOW_SCANNER_IP_RANGES: 'mx.example' })).toThrow(/MAILFLOW_SCANNER_IP_RANGES/);
    expect(loadConfig('scanner', { MAILFLOW_QUICK_TEST_SOURCE_ADDRESS: '198.51.100.9' }).MAILFLOW_QUICK_TEST_SOURCE_ADDRESS).toBe('198.51.100.9');
    expect(() => loadConfig('scanner', { MAILFLOW_QUICK_TEST_SOURCE_ADDRESS: '198.51.100.0/24' })).toThrow(/MAILFLOW_QUICK_TEST_SOURCE_ADDRESS/);
    expect(() => loadConfig('admin-api', { MAILFLOW_SCANNER_HOST: 'mx example' })).toThrow(/MAILFLOW_SCANNER_HOST .*DNS name/);
    expect(() => loadConfig('admin-api', { MAILFLOW_SCANNER_CERT_NAME: 'mx.example' })).toThrow(/MAILFLOW_SCANNER_HOST is required/);
  });
});

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

  it('should return a frozen object holding only its own settings', () => {
    const config = loadConfig('admin-api', { UNRELATED: 'x' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(config).not.toHaveProperty('UNRELATED');
  });

  it('should describe every variable with its default', () => {
    const names = describeConfig('journal-ingest').map((entry) => entry.name);
    expect(names).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'JOURNAL_SMTP_PORT']));
  });
});

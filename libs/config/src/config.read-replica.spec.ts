import { loadConfig } from './config';

describe('loadConfig DATABASE_READ_URL', () => {
  it('should default the admin API read URL to DATABASE_URL', () => {
    expect(loadConfig('admin-api', {}).DATABASE_READ_URL).toBe('postgresql://postgres@127.0.0.1:5432/mailwarden');
    expect(loadConfig('admin-api', { DATABASE_URL: 'postgresql://app@db1/mw' }).DATABASE_READ_URL).toBe('postgresql://app@db1/mw');
  });

  it('should take a read replica URL of its own', () => {
    const config = loadConfig('admin-api', { DATABASE_URL: 'postgresql://app@db1/mw', DATABASE_READ_URL: 'postgresql://reader@db2/mw' });
    expect(config.DATABASE_READ_URL).toBe('postgresql://reader@db2/mw');
    expect(config.DATABASE_URL).toBe('postgresql://app@db1/mw');
  });

  it('should refuse a read URL that is not PostgreSQL, naming it', () => {
    expect(() => loadConfig('admin-api', { DATABASE_READ_URL: 'mysql://x@y/z' })).toThrow(/DATABASE_READ_URL .*postgresql/);
  });
});

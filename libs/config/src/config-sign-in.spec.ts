import { ConfigError } from './config-error';
import { loadConfig } from './config';

describe('sign-in settings (issue 18)', () => {
  it('should default to Secure session cookies, 30 minutes idle, 12 hours at most, and no OpenID Connect', () => {
    expect(loadConfig('admin-api', {})).toMatchObject({ SESSION_COOKIE_SECURE: true, SESSION_IDLE_MINUTES: 30, SESSION_MAX_HOURS: 12, OIDC_PROVIDER: '' });
  });

  it('should want an issuer and a client id once OIDC_PROVIDER is set, https unless on this machine', () => {
    const problems = (env: NodeJS.ProcessEnv): Record<string, string> => {
      try {
        loadConfig('admin-api', env);
        return {};
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    expect(Object.keys(problems({ OIDC_PROVIDER: 'microsoft' })).sort()).toEqual(['OIDC_CLIENT_ID', 'OIDC_ISSUER']);
    expect(Object.keys(problems({ OIDC_PROVIDER: 'microsoft', OIDC_ISSUER: 'http://login.example/t/v2.0', OIDC_CLIENT_ID: 'c' }))).toEqual(['OIDC_ISSUER']);
    expect(problems({ OIDC_PROVIDER: 'microsoft', OIDC_ISSUER: 'http://127.0.0.1:4000/t/v2.0', OIDC_CLIENT_ID: 'c' })).toEqual({});
    expect(problems({ OIDC_PROVIDER: 'microsoft', OIDC_ISSUER: 'https://login.microsoftonline.com/t/v2.0', OIDC_CLIENT_ID: 'c' })).toEqual({});
    expect(Object.keys(problems({ OIDC_PROVIDER: 'Not A Name' }))).toContain('OIDC_PROVIDER');
  });
});

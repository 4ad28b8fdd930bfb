import { runHealthChecks, type HealthIndicator } from './health';

const up = (name: string): HealthIndicator => ({ name, check: async () => undefined });
const down = (name: string, message: string): HealthIndicator => ({ name, check: async () => Promise.reject(new Error(message)) });
const hanging = (name: string): HealthIndicator => ({ name, check: () => new Promise(() => undefined) });

describe(runHealthChecks.name, () => {
  it('should report ok when every dependency answers', async () => {
    const report = await runHealthChecks([up('postgres'), up('redis')]);
    expect(report.status).toBe('ok');
    expect(report.checks.postgres!.status).toBe('up');
  });

  it('should name the failing part', async () => {
    const report = await runHealthChecks([up('postgres'), down('redis', 'connect ECONNREFUSED 127.0.0.1:6379')]);
    expect(report.status).toBe('error');
    expect(report.checks.redis).toMatchObject({ status: 'down', error: 'connect ECONNREFUSED 127.0.0.1:6379' });
    expect(report.checks.postgres!.status).toBe('up');
  });

  it('should count a dependency that never answers as down', async () => {
    const report = await runHealthChecks([hanging('postgres')], 50);
    expect(report.checks.postgres).toMatchObject({ status: 'down', error: 'no answer within 50 ms' });
  });
});

import type { Domain } from '@mailwarden/db';
import { MigrationErrorCode, MigrationException } from '../mode-migration.errors';
import { buildPlan } from './build-plan';

const domain = (id: string, name: string, mode: Domain['mode'], verified = true): Domain =>
  ({ id, accountId: 'a', name, mode, verificationStatus: verified ? 'VERIFIED' : 'PENDING' }) as Domain;

const codeOf = (run: () => unknown): MigrationErrorCode => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MigrationException);
    return (error as MigrationException).code;
  }
  throw new Error('expected a refusal');
};

describe(buildPlan.name, () => {
  it('should plan monitor-only → Advanced (gateway) with the DESIGN §2 steps over the verified JOURNAL domains', () => {
    const plan = buildPlan({ monitorOnly: true }, [domain('1', 'a.example', 'JOURNAL'), domain('2', 'b.example', 'JOURNAL', false)], {
      kind: 'MONITOR_ONLY_TO_ADVANCED',
      targetMode: 'GATEWAY',
      gatewayMxHost: 'MX.Mailwarden.Example.',
    });
    expect(plan.params).toEqual({
      domains: [{ id: '1', name: 'a.example', mode: 'JOURNAL' }],
      targetMode: 'GATEWAY',
      gatewayMxHost: 'mx.mailwarden.example',
      quietPeriodMs: 600_000,
    });
    // The new path is proven before the switch; journaling is disconnected and its rules removed last.
    expect(plan.steps.map((step) => [step.key, step.kind])).toEqual([
      ['accept-mail-on-both-paths', 'AUTOMATED'],
      ['complete-gateway-setup', 'MANUAL'],
      ['turn-monitor-only-off', 'AUTOMATED'],
      ['add-domains-in-gateway-mode', 'AUTOMATED'],
      ['disconnect-domains-from-journaling', 'AUTOMATED'],
      ['remove-journal-rules', 'MANUAL'],
    ]);
  });

  it('should end monitor-only → Advanced (mailflow) with the mailflow setup and need no MX host', () => {
    const plan = buildPlan({ monitorOnly: true }, [domain('1', 'a.example', 'JOURNAL')], { kind: 'MONITOR_ONLY_TO_ADVANCED', targetMode: 'MAILFLOW' });
    expect(plan.steps[1]!.key).toBe('complete-mailflow-setup');
    expect(plan.params.gatewayMxHost).toBeUndefined();
  });

  it('should plan Advanced → monitor-only over every GATEWAY and MAILFLOW domain, journaling last', () => {
    const plan = buildPlan({ monitorOnly: false }, [domain('1', 'gw.example', 'GATEWAY'), domain('2', 'mf.example', 'MAILFLOW'), domain('3', 'j.example', 'JOURNAL')], {
      kind: 'ADVANCED_TO_MONITOR_ONLY',
      gatewayMxHost: 'mx.mailwarden.example',
    });
    expect(plan.params.domains.map((d) => d.name)).toEqual(['gw.example', 'mf.example']);
    // Journaling proven and mail routing restored before the domains leave their mode; the old path drains last.
    expect(plan.steps.map((step) => step.key)).toEqual([
      'accept-mail-on-both-paths',
      'complete-journal-setup',
      'restore-mail-routing',
      'remove-domains-from-gateway-and-mailflow',
      'turn-monitor-only-on',
      'wait-for-old-path-to-drain',
      'close-overlap-window',
    ]);
  });

  it('should plan Gateway → Mailflow with the quick test before the gateway setup goes', () => {
    const plan = buildPlan({ monitorOnly: false }, [domain('1', 'gw.example', 'GATEWAY')], { kind: 'GATEWAY_TO_MAILFLOW', gatewayMxHost: 'mx.mailwarden.example' });
    const keys = plan.steps.map((step) => step.key);
    expect(keys.indexOf('mailflow-quick-test')).toBeLessThan(keys.indexOf('switch-domains-to-mailflow'));
    expect(keys.indexOf('switch-domains-to-mailflow')).toBeLessThan(keys.indexOf('remove-gateway-mx-records'));
  });

  it('should plan Mailflow → Gateway with MX proven before the switch and the connector path drained last', () => {
    const plan = buildPlan({ monitorOnly: false }, [domain('1', 'mf.example', 'MAILFLOW'), domain('2', 'gw.example', 'GATEWAY')], { kind: 'MAILFLOW_TO_GATEWAY' }, { gatewayMxHost: 'mx.remembered.example' });
    expect(plan.params.domains.map((d) => d.name)).toEqual(['mf.example']);
    expect(plan.steps.map((step) => step.key)).toEqual(['accept-mail-on-both-paths', 'complete-gateway-setup', 'switch-domains-to-gateway', 'remove-mailflow-connectors', 'close-overlap-window']);
  });

  it('should remember the MX host of an earlier plan and take the quiet period per plan, within bounds', () => {
    const domains = [domain('1', 'gw.example', 'GATEWAY')];
    const remembered = buildPlan({ monitorOnly: false }, domains, { kind: 'ADVANCED_TO_MONITOR_ONLY', quietPeriodSeconds: 0 }, { gatewayMxHost: 'mx.remembered.example' });
    expect(remembered.params).toMatchObject({ gatewayMxHost: 'mx.remembered.example', quietPeriodMs: 0 });
    expect(buildPlan({ monitorOnly: false }, domains, { kind: 'ADVANCED_TO_MONITOR_ONLY', quietPeriodSeconds: 90 }, { gatewayMxHost: 'mx.x.example' }).params.quietPeriodMs).toBe(90_000);
    expect(codeOf(() => buildPlan({ monitorOnly: false }, domains, { kind: 'ADVANCED_TO_MONITOR_ONLY', quietPeriodSeconds: -1 }, { gatewayMxHost: 'mx.x.example' }))).toBe(
      MigrationErrorCode.InvalidPlan,
    );
    expect(codeOf(() => buildPlan({ monitorOnly: false }, domains, { kind: 'ADVANCED_TO_MONITOR_ONLY', quietPeriodSeconds: 1.5 }, { gatewayMxHost: 'mx.x.example' }))).toBe(
      MigrationErrorCode.InvalidPlan,
    );
    expect(codeOf(() => buildPlan({ monitorOnly: false }, domains, { kind: 'ADVANCED_TO_MONITOR_ONLY' }))).toBe(MigrationErrorCode.InvalidPlan);
  });

  it('should refuse a migration from the wrong mode, without a target mode, MX host or domains', () => {
    expect(codeOf(() => buildPlan({ monitorOnly: true }, [], { kind: 'ADVANCED_TO_MONITOR_ONLY' }))).toBe(MigrationErrorCode.WrongStartingMode);
    expect(codeOf(() => buildPlan({ monitorOnly: false }, [], { kind: 'MONITOR_ONLY_TO_ADVANCED', targetMode: 'GATEWAY' }))).toBe(MigrationErrorCode.WrongStartingMode);
    expect(codeOf(() => buildPlan({ monitorOnly: true }, [domain('1', 'a.example', 'JOURNAL')], { kind: 'MONITOR_ONLY_TO_ADVANCED' }))).toBe(MigrationErrorCode.InvalidPlan);
    expect(codeOf(() => buildPlan({ monitorOnly: true }, [domain('1', 'a.example', 'JOURNAL')], { kind: 'MONITOR_ONLY_TO_ADVANCED', targetMode: 'GATEWAY' }))).toBe(
      MigrationErrorCode.InvalidPlan,
    );
    expect(codeOf(() => buildPlan({ monitorOnly: true }, [domain('1', 'a.example', 'JOURNAL', false)], { kind: 'MONITOR_ONLY_TO_ADVANCED', targetMode: 'MAILFLOW' }))).toBe(
      MigrationErrorCode.InvalidPlan,
    );
    expect(codeOf(() => buildPlan({ monitorOnly: false }, [domain('1', 'gw.example', 'GATEWAY')], { kind: 'GATEWAY_TO_MAILFLOW', domainIds: ['nope'], gatewayMxHost: 'mx.x.example' }))).toBe(
      MigrationErrorCode.InvalidPlan,
    );
  });

  it('should refuse leaving a GATEWAY domain out of Advanced → monitor-only (monitor-only allows JOURNAL only)', () => {
    const domains = [domain('1', 'gw.example', 'GATEWAY'), domain('2', 'mf.example', 'MAILFLOW')];
    expect(codeOf(() => buildPlan({ monitorOnly: false }, domains, { kind: 'ADVANCED_TO_MONITOR_ONLY', domainIds: ['2'], gatewayMxHost: 'mx.x.example' }))).toBe(MigrationErrorCode.InvalidPlan);
  });
});

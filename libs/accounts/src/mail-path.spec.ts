import type { DomainMode } from '@mailwarden/db';
import { acceptedPaths, pathDecision, type PathDomain } from './mail-path';

const domain = (mode: DomainMode, transitionMode: DomainMode | null = null, overrides: Partial<PathDomain> = {}): PathDomain => ({
  name: 'acme.example',
  mode,
  transitionMode,
  verificationStatus: 'VERIFIED',
  account: { monitorOnly: mode === 'JOURNAL' },
  ...overrides,
});
const mx = { path: 'SMTP' as const, fromConnector: false };
const connector = { path: 'SMTP' as const, fromConnector: true };
const journal = { path: 'JOURNAL' as const };

describe(pathDecision.name, () => {
  it('should accept each steady mode on its own path only, refusing the others for good (no open relay)', () => {
    expect(pathDecision(domain('GATEWAY'), mx)).toEqual({ accept: true, path: 'GATEWAY', inTransition: false });
    expect(pathDecision(domain('GATEWAY'), connector)).toEqual({ accept: true, path: 'GATEWAY', inTransition: false });
    expect(pathDecision(domain('MAILFLOW'), connector)).toEqual({ accept: true, path: 'MAILFLOW', inTransition: false });
    expect(pathDecision(domain('MAILFLOW'), mx)).toEqual({ accept: false, reply: 'PERMANENT', reason: 'receives mail through its Microsoft 365 connector only' });
    expect(pathDecision(domain('JOURNAL'), mx)).toMatchObject({ accept: false, reply: 'PERMANENT', reason: expect.stringMatching(/monitor-only/) });
    expect(pathDecision(domain('JOURNAL'), journal)).toMatchObject({ accept: true, path: 'JOURNAL' });
    expect(pathDecision(domain('GATEWAY'), journal)).toMatchObject({ accept: false, reason: 'is in GATEWAY mode: its journal copies are not scanned' });
  });

  it('should accept both the old and the new path while a domain is in transition', () => {
    // Gateway -> Mailflow before the switch: MX still points here, the connector already routes.
    expect(pathDecision(domain('GATEWAY', 'MAILFLOW'), mx)).toMatchObject({ accept: true, path: 'GATEWAY', inTransition: true });
    expect(pathDecision(domain('GATEWAY', 'MAILFLOW'), connector)).toMatchObject({ accept: true, path: 'MAILFLOW', inTransition: true });
    // ... and after the switch, until the old MX is gone.
    expect(pathDecision(domain('MAILFLOW', 'GATEWAY'), mx)).toMatchObject({ accept: true, path: 'GATEWAY' });
    // Monitor-only -> Gateway: MX may move before the mode does; the journal copies still count.
    expect(pathDecision(domain('JOURNAL', 'GATEWAY'), mx)).toMatchObject({ accept: true, path: 'GATEWAY' });
    expect(pathDecision(domain('JOURNAL', 'GATEWAY'), journal)).toMatchObject({ accept: true, path: 'JOURNAL' });
    expect(pathDecision(domain('GATEWAY', 'JOURNAL'), journal)).toMatchObject({ accept: true, path: 'JOURNAL' });
  });

  it('should answer 4xx, never 5xx, for what a domain in transition does not take', () => {
    expect(pathDecision(domain('JOURNAL', 'MAILFLOW'), mx)).toEqual({ accept: false, reply: 'TEMPORARY', reason: 'receives mail through its Microsoft 365 connector only' });
    expect(pathDecision(domain('MAILFLOW', 'JOURNAL'), mx)).toMatchObject({ accept: false, reply: 'TEMPORARY' });
  });

  it('should refuse unknown and unverified domains for good, in transition or not', () => {
    expect(pathDecision(null, mx)).toMatchObject({ accept: false, reply: 'PERMANENT', reason: 'is not a verified domain served here' });
    expect(pathDecision(domain('GATEWAY', 'MAILFLOW', { verificationStatus: 'PENDING' }), mx)).toMatchObject({ accept: false, reply: 'PERMANENT' });
  });
});

describe(acceptedPaths.name, () => {
  it('should list the mode and the transition mode', () => {
    expect([...acceptedPaths({ mode: 'GATEWAY', transitionMode: null })]).toEqual(['GATEWAY']);
    expect([...acceptedPaths({ mode: 'GATEWAY', transitionMode: 'JOURNAL' })]).toEqual(['GATEWAY', 'JOURNAL']);
  });
});

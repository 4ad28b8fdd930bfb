import { checkSender } from './check-sender';
import { SenderCheckInputError } from './sender-check-input.error';
import type { DkimCheckRecord, DmarcCheckRecord, HeaderAnomalyCheckRecord, SenderCheckReport, SpfCheckRecord } from './sender-checks.types';
import { ZoneDnsResolver, type DnsZone } from './zone-resolver';
import {
  alter,
  arcSeal,
  inbound,
  keyRecord,
  loadMessage,
  loadZone,
  rsaKey,
  settings,
  signDkim,
  TestKey,
  withRecords,
} from '../test/sender-checks.fixtures';

const dmarcOf = (report: SenderCheckReport) => report.checks[0] as DmarcCheckRecord;
const spfOf = (report: SenderCheckReport) => report.checks[1] as SpfCheckRecord;
const dkimOf = (report: SenderCheckReport) => report.checks[2] as DkimCheckRecord;
const anomalyOf = (report: SenderCheckReport) => report.checks[3] as HeaderAnomalyCheckRecord;
const statuses = (report: SenderCheckReport) => report.checks.map((c) => `${c.check}:${c.status}`);

describe(checkSender.name, () => {
  let key: TestKey;
  let baseZone: DnsZone;
  let signed: Buffer;

  beforeAll(async () => {
    key = rsaKey();
    baseZone = withRecords(loadZone('sender.dns.json'), { 's1._domainkey.sender.example': { TXT: [keyRecord(key)] } });
    signed = await signDkim(loadMessage('inbound.eml'), { domain: 'sender.example', selector: 's1', key });
  });

  const run = async (zone: DnsZone, input: Parameters<typeof checkSender>[0], random?: () => number) => {
    const resolver = new ZoneDnsResolver(zone);
    const report = await checkSender(input, { resolver: resolver.resolve, random });
    return { report, calls: resolver.calls };
  };

  /** The zone with sender.example's DMARC record replaced. */
  const dmarcZone = (record: string) => withRecords(baseZone, { '_dmarc.sender.example': { TXT: [record] } });
  /** A message that fails DMARC: unsigned, sent from an IP outside sender.example's SPF. */
  const spoofedInput = (overrides = {}) => inbound(loadMessage('inbound.eml'), { clientIp: '203.0.113.66', helo: 'mail.attacker.example', ...overrides });

  it('should pass every check for an aligned, signed message from the sender domain', async () => {
    const { report } = await run(baseZone, inbound(signed));
    expect(statuses(report)).toEqual(['dmarc:pass', 'spf:pass', 'dkim:pass', 'header-anomaly:pass']);
    expect(report).toMatchObject({ firstFailure: null, action: 'DELIVER', temporaryError: false, allowListed: null });
    expect(dmarcOf(report).evidence).toMatchObject({
      result: 'pass',
      fromDomain: 'sender.example',
      p: 'reject',
      pct: 100,
      policy: 'reject',
      record: 'v=DMARC1; p=reject; rua=mailto:dmarc@sender.example',
      alignment: { spf: { domain: 'sender.example', strict: false }, dkim: { domain: 'sender.example', strict: false } },
    });
    expect(spfOf(report).evidence).toMatchObject({ result: 'pass', domain: 'sender.example', record: 'v=spf1 ip4:192.0.2.10 -all' });
    expect(dkimOf(report).evidence!.signatures).toEqual([
      expect.objectContaining({ domain: 'sender.example', selector: 's1', algorithm: 'rsa-sha256', result: 'pass', keyBits: 2048 }),
    ]);
  });

  describe('DMARC', () => {
    it.each([
      ['v=DMARC1; p=reject', 'REJECT'],
      ['v=DMARC1; p=quarantine', 'QUARANTINE'],
      ['v=DMARC1; p=none', 'DELIVER'],
    ])('should follow the sender policy %s by default', async (record, action) => {
      const { report } = await run(dmarcZone(record), spoofedInput());
      expect(dmarcOf(report)).toMatchObject({ status: 'fail', action });
      expect(report.firstFailure).toBe('dmarc');
      expect(report.action).toBe(action);
    });

    it('should record the later checks as not run when DMARC fails', async () => {
      const { report, calls } = await run(baseZone, spoofedInput());
      expect(statuses(report)).toEqual(['dmarc:fail', 'spf:not-run', 'dkim:not-run', 'header-anomaly:not-run']);
      expect(spfOf(report).evidence).toBeUndefined();
      expect(calls).toContain('TXT _dmarc.sender.example');
    });

    it('should show the SPF and DKIM results DMARC was computed from, even when its failure stops the later checks', async () => {
      // DMARC fail with p=none: delivered, and the SPF hard fail beneath it is still in the evidence.
      const { report } = await run(dmarcZone('v=DMARC1; p=none'), spoofedInput());
      expect(report.action).toBe('DELIVER');
      expect(statuses(report)).toEqual(['dmarc:fail', 'spf:not-run', 'dkim:not-run', 'header-anomaly:not-run']);
      expect(dmarcOf(report).evidence!.computedFrom).toEqual({
        spf: expect.objectContaining({ status: 'fail', result: 'fail', domain: 'sender.example', clientIp: '203.0.113.66', record: 'v=spf1 ip4:192.0.2.10 -all' }),
        dkim: { status: 'none', signatures: [] },
      });
    });

    it.each(['TAG_SUBJECT', 'QUARANTINE', 'REJECT', 'DELIVER'] as const)('should apply the configured action %s instead of the sender policy', async (action) => {
      const { report } = await run(dmarcZone('v=DMARC1; p=none'), spoofedInput({ settings: settings({ dmarc: { enabled: true, action } }) }));
      expect(dmarcOf(report)).toMatchObject({ status: 'fail', action });
      expect(report.action).toBe(action);
    });

    it('should honour pct= by sampling with the injected random source', async () => {
      const zone = dmarcZone('v=DMARC1; p=reject; pct=40');
      const sampled = (await run(zone, spoofedInput(), () => 0.39)).report;
      expect(dmarcOf(sampled)).toMatchObject({ status: 'fail', action: 'REJECT', evidence: { pct: 40, sampled: true, appliedPolicy: 'reject' } });
      // RFC 7489 6.6.4: an unsampled message gets the next policy down
      const unsampled = (await run(zone, spoofedInput(), () => 0.4)).report;
      expect(dmarcOf(unsampled)).toMatchObject({ status: 'fail', action: 'QUARANTINE', evidence: { pct: 40, sampled: false, appliedPolicy: 'quarantine' } });
      const quarantineUnsampled = (await run(dmarcZone('v=DMARC1; p=quarantine; pct=10'), spoofedInput(), () => 0.5)).report;
      expect(dmarcOf(quarantineUnsampled)).toMatchObject({ action: 'DELIVER', evidence: { appliedPolicy: 'none' } });
    });

    it('should not sample without pct= (100%)', async () => {
      const { report } = await run(baseZone, spoofedInput(), () => 0.999);
      expect(dmarcOf(report).evidence).toMatchObject({ pct: 100, appliedPolicy: 'reject' });
      expect(dmarcOf(report).evidence!.sampled).toBeUndefined();
    });

    it.each([
      ['v=DMARC1; p=reject; sp=none', 'DELIVER'],
      ['v=DMARC1; p=reject; sp=quarantine', 'QUARANTINE'],
      ['v=DMARC1; p=none; sp=reject', 'REJECT'],
      ['v=DMARC1; p=quarantine', 'QUARANTINE'],
    ])('should apply sp= of the organizational domain record %s to a subdomain author', async (record, action) => {
      const input = inbound(loadMessage('subdomain-sender.eml'), { clientIp: '203.0.113.66', helo: 'mail.attacker.example', envelopeSender: 'x@mail.attacker.example' });
      const { report } = await run(dmarcZone(record), input);
      expect(dmarcOf(report)).toMatchObject({ status: 'fail', action, evidence: { fromDomain: 'news.sender.example', policyDomain: 'sender.example' } });
    });

    it('should record none and go on when the author domain publishes no DMARC record', async () => {
      const zone = withRecords(baseZone, {});
      delete zone['_dmarc.sender.example'];
      const { report } = await run(zone, spoofedInput());
      expect(statuses(report)).toEqual(['dmarc:none', 'spf:fail', 'dkim:not-run', 'header-anomaly:not-run']);
      expect(report).toMatchObject({ firstFailure: 'spf', action: 'REJECT' });
    });

    it('should record none when the message has no From author domain', async () => {
      const { report } = await run(baseZone, inbound(loadMessage('no-from.eml')));
      expect(dmarcOf(report)).toMatchObject({ status: 'none', evidence: { result: 'none', skipReason: 'no-author-domain' } });
    });

    it('should record a temperror, not a failure, when the DMARC lookup times out', async () => {
      const zone = withRecords(baseZone, { '_dmarc.sender.example': { TXT: { error: 'ETIMEOUT' } } });
      const { report } = await run(zone, inbound(signed));
      expect(dmarcOf(report)).toMatchObject({ status: 'temperror', temporaryError: true, actionIfFailed: 'REJECT' });
      expect(statuses(report)).toEqual(['dmarc:temperror', 'spf:pass', 'dkim:pass', 'header-anomaly:pass']);
      expect(report).toMatchObject({ firstFailure: null, action: 'DELIVER', temporaryError: true, temporaryErrorChecks: ['dmarc'], temporaryErrorMayReject: true });
    });

    it('should not say a temperror may reject when the configured DMARC action is milder', async () => {
      const zone = withRecords(baseZone, { '_dmarc.sender.example': { TXT: { error: 'ETIMEOUT' } } });
      const { report } = await run(zone, inbound(signed, { settings: settings({ dmarc: { enabled: true, action: 'TAG_SUBJECT' } }) }));
      expect(report).toMatchObject({ temporaryError: true, temporaryErrorMayReject: false });
      expect(dmarcOf(report).actionIfFailed).toBe('TAG_SUBJECT');
    });
  });

  describe('ARC override of a DMARC failure', () => {
    let arcKey: TestKey;
    let forwarded: Buffer;
    let zone: DnsZone;

    // a mailing list at forwarder.example verified the original, then changed the subject (which
    // breaks alice's DKIM signature) and sealed what it saw, recording `authResults`
    const sealedByForwarder = (authResults: string) =>
      arcSeal(alter(signed, 'Subject: Quarterly report', 'Subject: [team] Quarterly report'), { domain: 'forwarder.example', selector: 'arc', key: arcKey, authResults });

    beforeAll(async () => {
      arcKey = rsaKey();
      zone = withRecords(baseZone, { 'arc._domainkey.forwarder.example': { TXT: [keyRecord(arcKey)] } });
      forwarded = await sealedByForwarder(
        'mx.forwarder.example; spf=pass smtp.mailfrom=alice@sender.example; dkim=pass header.d=sender.example header.s=s1; dmarc=pass header.from=sender.example',
      );
    });

    const forwardedInput = (trustedArcSealers: string[], message = forwarded) =>
      inbound(message, {
        clientIp: '198.51.100.7',
        helo: 'mx.forwarder.example',
        envelopeSender: 'team-bounces@forwarder.example',
        settings: settings({ trustedArcSealers }),
      });

    it('should override the DMARC failure when a trusted sealer recorded dmarc=pass', async () => {
      const { report } = await run(zone, forwardedInput(['forwarder.example']));
      const dmarc = dmarcOf(report);
      expect(dmarc.status).toBe('pass');
      expect(dmarc.evidence).toMatchObject({
        result: 'fail',
        arc: {
          result: 'pass',
          instance: 1,
          sealer: 'forwarder.example',
          trustedSealer: true,
          recorded: { dmarc: 'pass', spf: 'pass', spfDomain: 'sender.example' },
          overridesDmarcFailure: true,
          overrideReason: 'sealer forwarder.example recorded dmarc=pass',
        },
      });
      // the later checks run: the broken DKIM signature is still a DKIM failure
      expect(statuses(report)).toEqual(['dmarc:pass', 'spf:pass', 'dkim:fail', 'header-anomaly:not-run']);
      expect(report).toMatchObject({ firstFailure: 'dkim', action: 'TAG_SUBJECT' });
    });

    it('should not override when the sealer is not trusted', async () => {
      const { report } = await run(zone, forwardedInput(['google.com']));
      expect(dmarcOf(report)).toMatchObject({
        status: 'fail',
        action: 'REJECT',
        evidence: { arc: { result: 'pass', sealer: 'forwarder.example', trustedSealer: false, overridesDmarcFailure: false } },
      });
    });

    it('should not override when the trusted sealer recorded a failure', async () => {
      const failing = await sealedByForwarder('mx.forwarder.example; spf=fail smtp.mailfrom=alice@sender.example; dkim=fail header.d=sender.example; dmarc=fail header.from=sender.example');
      const { report } = await run(zone, forwardedInput(['forwarder.example'], failing));
      expect(dmarcOf(report)).toMatchObject({ status: 'fail', evidence: { arc: { trustedSealer: true, recorded: { dmarc: 'fail' }, overridesDmarcFailure: false } } });
    });

    it('should override on an aligned DKIM pass recorded by the trusted sealer', async () => {
      const dkimOnly = await sealedByForwarder('mx.forwarder.example; spf=softfail smtp.mailfrom=alice@sender.example; dkim=pass header.d=sender.example header.s=s1');
      const { report } = await run(zone, forwardedInput(['forwarder.example'], dkimOnly));
      expect(dmarcOf(report)).toMatchObject({ status: 'pass', evidence: { arc: { overridesDmarcFailure: true, overrideReason: 'sealer forwarder.example recorded dkim=pass for aligned sender.example' } } });
    });

    it('should not consult the ARC chain when DMARC passes', async () => {
      const sealedIntact = await arcSeal(signed, { domain: 'forwarder.example', selector: 'arc', key: arcKey, authResults: 'mx.forwarder.example; dmarc=pass header.from=sender.example' });
      const { report } = await run(zone, inbound(sealedIntact, { settings: settings({ trustedArcSealers: ['forwarder.example'] }) }));
      expect(dmarcOf(report)).toMatchObject({ status: 'pass', evidence: { result: 'pass' } });
      expect(dmarcOf(report).evidence!.arc).toBeUndefined();
    });

    it('should not override when the chain does not validate', async () => {
      const tampered = alter(forwarded, 'cv=none', 'cv=pass');
      const { report } = await run(zone, forwardedInput(['forwarder.example'], tampered));
      expect(dmarcOf(report)).toMatchObject({ status: 'fail', evidence: { arc: { result: 'fail', overridesDmarcFailure: false } } });
    });
  });

  describe('SPF', () => {
    const noDmarc = settings({ dmarc: { enabled: false, action: 'FOLLOW_SENDER_POLICY' } });

    it('should reject on an SPF fail by default and not run the later checks', async () => {
      const { report, calls } = await run(baseZone, spoofedInput({ settings: noDmarc }));
      expect(spfOf(report)).toMatchObject({ status: 'fail', action: 'REJECT', evidence: { result: 'fail', domain: 'sender.example', clientIp: '203.0.113.66' } });
      expect(statuses(report)).toEqual(['dmarc:disabled', 'spf:fail', 'dkim:not-run', 'header-anomaly:not-run']);
      expect(calls.filter((c) => c.includes('_domainkey'))).toEqual([]);
    });

    it('should apply the configured SPF action', async () => {
      const { report } = await run(baseZone, spoofedInput({ settings: settings({ dmarc: { enabled: false, action: 'REJECT' }, spf: { enabled: true, action: 'QUARANTINE' } }) }));
      expect(report).toMatchObject({ firstFailure: 'spf', action: 'QUARANTINE' });
    });

    it('should not treat softfail as a failure', async () => {
      const zone = withRecords(baseZone, { 'sender.example': { TXT: ['v=spf1 ip4:192.0.2.10 ~all'], A: ['192.0.2.10'] } });
      const { report } = await run(zone, spoofedInput({ settings: noDmarc }));
      expect(spfOf(report)).toMatchObject({ status: 'softfail', temporaryError: false });
      expect(spfOf(report).action).toBeUndefined();
      expect(statuses(report)).toEqual(['dmarc:disabled', 'spf:softfail', 'dkim:none', 'header-anomaly:pass']);
    });

    it('should record none when the sender domain publishes no SPF record', async () => {
      const zone = withRecords(baseZone, { 'sender.example': { A: ['192.0.2.10'] } });
      const { report } = await run(zone, spoofedInput({ settings: noDmarc }));
      expect(spfOf(report).status).toBe('none');
      expect(report.firstFailure).toBeNull();
    });

    it('should record a temperror when the SPF lookup times out, and go on', async () => {
      const zone = withRecords(baseZone, { 'sender.example': { TXT: { error: 'ETIMEOUT' } } });
      const { report } = await run(zone, inbound(signed, { settings: noDmarc }));
      expect(spfOf(report)).toMatchObject({ status: 'temperror', temporaryError: true, actionIfFailed: 'REJECT' });
      expect(statuses(report)).toEqual(['dmarc:disabled', 'spf:temperror', 'dkim:pass', 'header-anomaly:pass']);
      expect(report).toMatchObject({ temporaryError: true, temporaryErrorChecks: ['spf'], temporaryErrorMayReject: true, action: 'DELIVER' });
    });

    it('should record a record syntax error as permerror (RFC 7208 4.6), not a failure', async () => {
      const zone = withRecords(baseZone, { 'sender.example': { TXT: ['v=spf1 ip4:192.0.2.10 bogus:mechanism -all'] } });
      const { report } = await run(zone, spoofedInput({ settings: noDmarc }));
      expect(spfOf(report)).toMatchObject({ status: 'permerror', temporaryError: false });
      expect(report.firstFailure).toBeNull();
    });

    it('should check the HELO identity for the null reverse-path', async () => {
      const zone = withRecords(baseZone, { 'mail.sender.example': { TXT: ['v=spf1 ip4:192.0.2.10 -all'] } });
      const { report } = await run(zone, inbound(signed, { envelopeSender: '' }));
      expect(spfOf(report)).toMatchObject({ status: 'pass', evidence: { domain: 'mail.sender.example' } });
    });
  });

  describe('DKIM', () => {
    const dkimFirst = settings({ dmarc: { enabled: false, action: 'REJECT' }, spf: { enabled: false, action: 'REJECT' } });

    it('should tag the subject by default when a signature fails verification', async () => {
      const { report } = await run(baseZone, inbound(alter(signed, 'the report is attached', 'the invoice is attached'), { settings: dkimFirst }));
      expect(dkimOf(report)).toMatchObject({ status: 'fail', action: 'TAG_SUBJECT' });
      expect(dkimOf(report).evidence!.signatures[0]).toMatchObject({ domain: 'sender.example', selector: 's1', result: 'fail', comment: 'body hash did not verify' });
      expect(statuses(report)).toEqual(['dmarc:disabled', 'spf:disabled', 'dkim:fail', 'header-anomaly:not-run']);
    });

    it('should apply the configured DKIM action', async () => {
      const input = inbound(alter(signed, 'Quarterly report', 'Quarterly invoice'), { settings: settings({ ...dkimFirst.senderChecks, dkim: { enabled: true, action: 'QUARANTINE' } }) });
      const { report } = await run(baseZone, input);
      expect(report).toMatchObject({ firstFailure: 'dkim', action: 'QUARANTINE' });
    });

    it('should record an unsigned message as none, not a failure', async () => {
      const { report } = await run(baseZone, inbound(loadMessage('inbound.eml'), { settings: dkimFirst }));
      expect(dkimOf(report)).toMatchObject({ status: 'none', evidence: { signatures: [] } });
      expect(report.firstFailure).toBeNull();
    });

    it('should record a temperror when the key lookup times out', async () => {
      const zone = withRecords(baseZone, { 's1._domainkey.sender.example': { TXT: { error: 'ETIMEOUT' } } });
      const { report } = await run(zone, inbound(signed, { settings: dkimFirst }));
      expect(dkimOf(report)).toMatchObject({ status: 'temperror', temporaryError: true, actionIfFailed: 'TAG_SUBJECT' });
      expect(report).toMatchObject({ firstFailure: null, temporaryErrorChecks: ['dkim'], temporaryErrorMayReject: false });
    });

    it('should report the key problem, not the body, when the key of a broken signature cannot be had (RFC 6376 6.1.2)', async () => {
      const zone = withRecords(baseZone, { 's1._domainkey.sender.example': { TXT: { error: 'ETIMEOUT' } } });
      const { report } = await run(zone, inbound(alter(signed, 'the report', 'the invoice'), { settings: dkimFirst }));
      expect(dkimOf(report).status).toBe('temperror');
    });

    it('should record a signature whose key is missing as permerror, not a failure', async () => {
      const zone = withRecords(baseZone, {});
      delete zone['s1._domainkey.sender.example'];
      const { report } = await run(zone, inbound(signed, { settings: dkimFirst }));
      expect(dkimOf(report)).toMatchObject({ status: 'permerror', evidence: { signatures: [expect.objectContaining({ result: 'neutral', comment: 'no key' })] } });
    });

    it('should not accept rsa-sha1 signatures (RFC 8301 3.1)', async () => {
      const sha1 = await signDkim(loadMessage('inbound.eml'), { domain: 'sender.example', selector: 's1', key, algorithm: 'rsa-sha1' });
      const { report } = await run(baseZone, inbound(sha1, { settings: dkimFirst }));
      expect(dkimOf(report)).toMatchObject({ status: 'fail', action: 'TAG_SUBJECT', evidence: { signatures: [expect.objectContaining({ algorithm: 'rsa-sha1', result: 'policy' })] } });
    });

    it('should not accept RSA keys under 1024 bits (RFC 8301 3.2)', async () => {
      const weak = rsaKey(768);
      const zone = withRecords(baseZone, { 'weak._domainkey.sender.example': { TXT: [keyRecord(weak)] } });
      const message = await signDkim(loadMessage('inbound.eml'), { domain: 'sender.example', selector: 'weak', key: weak });
      const { report } = await run(zone, inbound(message, { settings: dkimFirst }));
      expect(dkimOf(report)).toMatchObject({ status: 'fail', evidence: { signatures: [expect.objectContaining({ result: 'policy' })] } });
    });

    it('should verify a key published as a bare PKCS#1 RSAPublicKey', async () => {
      const zone = withRecords(baseZone, { 's1._domainkey.sender.example': { TXT: [keyRecord(key, 'pkcs1')] } });
      const { report } = await run(zone, inbound(signed));
      expect(dkimOf(report).status).toBe('pass');
      expect(dmarcOf(report).evidence!.alignment!.dkim.domain).toBe('sender.example');
    });

    it('should record a temperror, not a failure, when another signature failed but this key lookup timed out', async () => {
      const zone = withRecords(baseZone, {
        's1._domainkey.sender.example': { TXT: { error: 'ETIMEOUT' } },
        's2._domainkey.sender.example': { TXT: [keyRecord(rsaKey())] },
      });
      const twice = await signDkim(signed, { domain: 'sender.example', selector: 's2', key });
      const { report } = await run(zone, inbound(twice, { settings: dkimFirst }));
      expect(dkimOf(report).evidence!.signatures.map((s) => `${s.selector}:${s.result}`)).toEqual(['s2:fail', 's1:temperror']);
      expect(dkimOf(report)).toMatchObject({ status: 'temperror', temporaryError: true });
    });

    it('should pass when one of several signatures verifies', async () => {
      const other = rsaKey();
      const zone = withRecords(baseZone, { 's2._domainkey.sender.example': { TXT: [keyRecord(rsaKey())] } });
      const twice = await signDkim(signed, { domain: 'sender.example', selector: 's2', key: other });
      const { report } = await run(zone, inbound(twice, { settings: dkimFirst }));
      expect(dkimOf(report).status).toBe('pass');
      expect(dkimOf(report).evidence!.signatures.map((s) => `${s.selector}:${s.result}`)).toEqual(['s2:fail', 's1:pass']);
    });
  });

  describe('header anomaly', () => {
    const anomalyOnly = settings({
      dmarc: { enabled: false, action: 'REJECT' },
      spf: { enabled: false, action: 'REJECT' },
      dkim: { enabled: false, action: 'REJECT' },
    });
    const spoof = (overrides = {}) =>
      inbound(loadMessage('spoof-own-domain.eml'), {
        clientIp: '203.0.113.66',
        envelopeSender: 'bounce@mail.attacker.example',
        envelopeRecipients: ['bob@customer.example', 'carol@customer-eu.example'],
        settings: anomalyOnly,
        ...overrides,
      });

    it('should flag the recipient whose own domain is spoofed, per recipient', async () => {
      const { report } = await run(baseZone, spoof());
      expect(anomalyOf(report)).toMatchObject({
        status: 'fail',
        action: 'TAG_SUBJECT',
        failedRecipients: ['bob@customer.example'],
        evidence: {
          headerFrom: ['ceo@customer.example'],
          envelopeSender: 'bounce@mail.attacker.example',
          recipients: [
            { recipient: 'bob@customer.example', domain: 'customer.example', inAccountDomain: true, anomaly: true },
            { recipient: 'carol@customer-eu.example', domain: 'customer-eu.example', inAccountDomain: true, anomaly: false },
          ],
        },
      });
      expect(report.recipients).toEqual([
        { recipient: 'bob@customer.example', firstFailure: 'header-anomaly', action: 'TAG_SUBJECT' },
        { recipient: 'carol@customer-eu.example', firstFailure: null, action: 'DELIVER' },
      ]);
      expect(report).toMatchObject({ firstFailure: 'header-anomaly', action: 'TAG_SUBJECT' });
    });

    it('should apply the configured header anomaly action', async () => {
      const { report } = await run(baseZone, spoof({ settings: settings({ ...anomalyOnly.senderChecks, headerAnomaly: { enabled: true, action: 'QUARANTINE' } }) }));
      expect(report.recipients.map((r) => r.action)).toEqual(['QUARANTINE', 'DELIVER']);
    });

    it('should pass when the header From is the envelope sender', async () => {
      const { report } = await run(baseZone, spoof({ envelopeSender: 'CEO@customer.example' }));
      expect(anomalyOf(report).status).toBe('pass');
    });

    it('should record none when the message has no From address', async () => {
      const { report } = await run(baseZone, inbound(loadMessage('no-from.eml'), { settings: anomalyOnly }));
      expect(anomalyOf(report).status).toBe('none');
    });

    it('should record none when no recipient is in the account domains', async () => {
      const { report } = await run(baseZone, spoof({ accountDomains: ['elsewhere.example'] }));
      expect(anomalyOf(report)).toMatchObject({ status: 'none', temporaryError: false });
    });

    it('should never end in temperror: it makes no DNS query', async () => {
      const resolver = new ZoneDnsResolver({});
      const timingOut = async (name: string, type: string) => {
        await resolver.resolve(name, type).catch(() => undefined);
        throw Object.assign(new Error('timeout'), { code: 'ETIMEOUT' });
      };
      const report = await checkSender(spoof(), { resolver: timingOut });
      expect(anomalyOf(report)).toMatchObject({ status: 'fail', temporaryError: false });
      expect(resolver.calls).toEqual([]);
    });
  });

  describe('allow list', () => {
    it.each([
      [{ domains: ['sender.example'], addresses: [] }, 'envelope-sender', 'domain'],
      [{ domains: [], addresses: ['alice@sender.example'] }, 'envelope-sender', 'address'],
    ])('should skip every check for an allow-listed sender %j', async (allowList, identity, kind) => {
      const { report, calls } = await run(baseZone, spoofedInput({ settings: settings({}, allowList) }));
      expect(statuses(report)).toEqual(['dmarc:skipped-by-allow-list', 'spf:skipped-by-allow-list', 'dkim:skipped-by-allow-list', 'header-anomaly:skipped-by-allow-list']);
      expect(report).toMatchObject({ allowListed: { identity, kind, address: 'alice@sender.example' }, firstFailure: null, action: 'DELIVER' });
      expect(calls).toEqual([]);
    });

    it('should match subdomains of an allow-listed domain and the header From', async () => {
      const input = inbound(loadMessage('subdomain-sender.eml'), { envelopeSender: 'x@mail.attacker.example', settings: settings({}, { domains: ['sender.example'], addresses: [] }) });
      const { report } = await run(baseZone, input);
      expect(report.allowListed).toEqual({ identity: 'header-from', address: 'alice@news.sender.example', entry: 'sender.example', kind: 'domain' });
    });

    it('should not match a domain that merely ends with the listed name', async () => {
      const message = alter(loadMessage('inbound.eml'), 'alice@sender.example', 'alice@notsender.example');
      const input = spoofedInput({ message, envelopeSender: 'x@notsender.example', settings: settings({}, { domains: ['sender.example'], addresses: ['bob@sender.example'] }) });
      const { report } = await run(baseZone, input);
      expect(report.allowListed).toBeNull();
    });
  });

  describe('disabled checks', () => {
    it('should record every disabled check and make no DNS query when all are off', async () => {
      const off = settings({
        dmarc: { enabled: false, action: 'FOLLOW_SENDER_POLICY' },
        spf: { enabled: false, action: 'REJECT' },
        dkim: { enabled: false, action: 'TAG_SUBJECT' },
        headerAnomaly: { enabled: false, action: 'TAG_SUBJECT' },
      });
      const { report, calls } = await run(baseZone, spoofedInput({ settings: off }));
      expect(statuses(report)).toEqual(['dmarc:disabled', 'spf:disabled', 'dkim:disabled', 'header-anomaly:disabled']);
      expect(report).toMatchObject({ firstFailure: null, action: 'DELIVER' });
      expect(calls).toEqual([]);
    });

    it('should let the next enabled check decide when an earlier one is disabled', async () => {
      const { report } = await run(baseZone, spoofedInput({ settings: settings({ dmarc: { enabled: false, action: 'FOLLOW_SENDER_POLICY' } }) }));
      expect(report).toMatchObject({ firstFailure: 'spf', action: 'REJECT' });
    });
  });

  it('should refuse input that is not a raw message with a typed error', async () => {
    const input = { ...inbound(signed), message: 'not a buffer' as unknown as Buffer };
    await expect(checkSender(input, { resolver: new ZoneDnsResolver({}).resolve })).rejects.toBeInstanceOf(SenderCheckInputError);
    await expect(checkSender({ ...inbound(signed), envelopeRecipients: [] }, { resolver: new ZoneDnsResolver({}).resolve })).rejects.toThrow(/envelopeRecipients/);
  });
});

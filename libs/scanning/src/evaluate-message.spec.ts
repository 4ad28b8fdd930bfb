import type { Policy } from '@mailwarden/db';
import { checkSender, ZoneDnsResolver, type SenderCheckReport } from '@mailwarden/sender-checks';
import { evaluateMessage, type MessageToEvaluate } from './evaluate-message';

const ACCOUNT = '00000000-0000-4000-8000-000000000001';

function policy(kind: Policy['kind'], settings: object): Policy {
  const now = new Date();
  return { id: `${kind}-policy`, kind, scope: 'ACCOUNT', partnerId: null, accountId: ACCOUNT, scopeId: ACCOUNT, settings, locks: [], createdAt: now, updatedAt: now } as Policy;
}

function message(direction: MessageToEvaluate['direction'], subject: string, body: string, policies: Policy[]): MessageToEvaluate {
  const from = direction === 'INBOUND' ? 'alice@partner.example' : 'bob@customer.example';
  const to = direction === 'INBOUND' ? 'bob@customer.example' : 'alice@partner.example';
  const raw = Buffer.from(`From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`);
  return {
    raw,
    direction,
    envelopeFrom: from,
    envelopeTo: [to],
    headerFrom: from,
    clientIp: '203.0.113.7',
    helo: 'mx.partner.example',
    accountDomains: ['customer.example'],
    enforced: true,
    policyContext: { accountId: ACCOUNT, partnerId: null, domainIds: new Map(), mailboxes: new Map(), policies },
  };
}

/** Sender checks that all pass: these tests are about policy and content, not DNS. */
const passingChecks = async (): Promise<SenderCheckReport> => ({
  allowListed: null,
  checks: [] as unknown as SenderCheckReport['checks'],
  firstFailure: null,
  action: 'DELIVER',
  recipients: [],
  temporaryError: false,
  temporaryErrorChecks: [],
  temporaryErrorMayReject: false,
});

const cardRule = (directions: string[]) =>
  policy('DATA_CONTROL', { rules: [{ id: 'cards', kind: 'card-number', enabled: true, action: 'QUARANTINE', directions, targets: ['body'] }] });

describe(evaluateMessage.name, () => {
  it('should not scan journal copies of a domain that left journal mode (scanned by its gateway or mailflow path instead)', async () => {
    let checksRun = 0;
    const counting = async () => {
      checksRun++;
      return passingChecks();
    };
    const inbound = { ...message('INBOUND', 'hello', 'hi', []), scanDomains: [] };
    expect(await evaluateMessage(inbound, counting)).toMatchObject({ status: 'SKIPPED', verdicts: [expect.objectContaining({ skippedReason: 'not-scanned-on-this-path' })] });
    const outbound = { ...message('OUTBOUND', 'hello', 'hi', []), scanDomains: ['other.example'] };
    expect((await evaluateMessage(outbound, counting)).status).toBe('SKIPPED');
    expect(checksRun).toBe(0);
    expect((await evaluateMessage({ ...message('INBOUND', 'hello', 'hi', []), scanDomains: ['customer.example'] }, counting)).status).toBe('SCANNED');
    expect(checksRun).toBe(1);
  });

  it('should decode the body for a content rule of the message direction and act on a match', async () => {
    const evaluation = await evaluateMessage(message('OUTBOUND', 'invoice', 'Card: 4111 1111 1111 1111', [cardRule(['OUTBOUND'])]), passingChecks);
    expect(evaluation.verdicts).toEqual([expect.objectContaining({ recipient: 'alice@partner.example', decidedAction: 'QUARANTINE' })]);
  });

  it('should decode a base64 body when a rule needs it', async () => {
    const encoded = Buffer.from('Card: 4111 1111 1111 1111').toString('base64');
    const input = message('OUTBOUND', 'invoice', encoded, [cardRule(['OUTBOUND'])]);
    input.raw = Buffer.from(input.raw.toString().replace('charset=utf-8\r\n', 'charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n'));
    expect((await evaluateMessage(input, passingChecks)).verdicts[0]).toMatchObject({ decidedAction: 'QUARANTINE' });
  });

  it('should not act on content when the only rule is for the other direction', async () => {
    const evaluation = await evaluateMessage(message('OUTBOUND', 'invoice', 'Card: 4111 1111 1111 1111', [cardRule(['INBOUND'])]), passingChecks);
    expect(evaluation.verdicts[0]).toMatchObject({ decidedAction: 'DELIVER' });
  });

  it('should tag the decoded Subject when no content rule applies (headers only)', async () => {
    const blockTag = policy('EMAIL_SECURITY', { blockList: { domains: ['partner.example'], addresses: [] }, blockAction: 'TAG_SUBJECT' });
    const evaluation = await evaluateMessage(message('INBOUND', '=?utf-8?B?R3LDvMOfZQ==?=', 'hello', [blockTag]), passingChecks);
    expect(evaluation.verdicts[0]).toMatchObject({ decidedAction: 'TAG_SUBJECT', taggedSubject: '[SUSPICIOUS] Grüße' });
  });

  it('should keep the evidence per recipient and bounded: a spoof to 5,000 recipients makes O(n) verdict data, not O(n²)', async () => {
    const recipients = Array.from({ length: 5_000 }, (_, index) => `user${index}@customer.example`);
    // A From of about 10 KB that spoofs the account's own domain: the header anomaly fails for every recipient.
    const from = `ceo@customer.example, ${Array.from({ length: 400 }, (_, index) => `someone${index}@customer.example`).join(', ')}`;
    const input = message('INBOUND', 'spoof', 'hello', []);
    input.raw = Buffer.from(`From: ${from}\r\nTo: list@customer.example\r\nSubject: spoof\r\n\r\nhello\r\n`);
    input.envelopeTo = recipients;
    input.headerFrom = 'ceo@customer.example';
    input.envelopeFrom = 'bounce@attacker.example';
    const resolver = new ZoneDnsResolver({});
    const evaluation = await evaluateMessage(input, (checks) => checkSender(checks, { resolver: resolver.resolve }));
    expect(evaluation.verdicts).toHaveLength(recipients.length);
    const anomaly = (verdict: (typeof evaluation.verdicts)[number]) => (verdict.checks as Array<{ check: string; status: string; evidence: { recipients: Array<{ recipient: string }>; headerFrom: string[] } }>).find((check) => check.check === 'header-anomaly')!;
    const first = anomaly(evaluation.verdicts[0]!);
    expect(first.status).toBe('fail');
    // Each verdict names its own recipient only, and a huge From is cut down.
    expect(first.evidence.recipients.map((entry) => entry.recipient)).toEqual([recipients[0]]);
    expect(JSON.stringify(first).length).toBeLessThan(8_000);
    const total = evaluation.verdicts.reduce((sum, verdict) => sum + JSON.stringify(verdict.checks).length, 0);
    expect(total).toBeLessThan(recipients.length * 8_000);
  }, 60_000);
});

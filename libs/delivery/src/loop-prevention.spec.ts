import { prepareCopy } from './prepare-copy';
import { bodyDigest, processedOriginalOf, type MarkedOriginal } from './loop-prevention';

const ORIGINAL = Buffer.from('From: a@partner.example\r\nTo: b@acme.example\r\nSubject: hi\r\nMessage-ID: <one@partner.example>\r\n\r\nHello,\r\n\r\nthe body.\r\n');
const ID = '0190a000-0000-7000-8000-000000000001';

describe('processed mark check', () => {
  it('should give a relayed copy (trace fields, mark, tagged Subject) the body digest of the original', () => {
    const copy = prepareCopy(ORIGINAL, { host: 'mx.mailwarden.test', messageId: ID, received: { helo: 'x', clientIp: '192.0.2.1', tls: true, date: new Date() }, checks: [], subjectTag: '[SPAM]', markProcessed: true });
    expect(copy.toString('latin1')).toContain('Subject: [SPAM] hi');
    expect(bodyDigest(copy)).toBe(bodyDigest(ORIGINAL));
    // A relay may add the final CRLF; bare LF is normalised: still the same body.
    expect(bodyDigest(Buffer.from(ORIGINAL.toString('latin1').replace(/\r\n$/, '')))).toBe(bodyDigest(ORIGINAL));
    expect(bodyDigest(Buffer.from(ORIGINAL.toString('latin1').replace('the body.', 'another body.')))).not.toBe(bodyDigest(ORIGINAL));
  });

  it('should accept a mark only for the same account, Message-ID and body, and say why not otherwise', async () => {
    const stored: MarkedOriginal = { id: ID, accountId: 'acc', messageIdHeader: '<one@partner.example>', raw: ORIGINAL };
    const load = async (id: string) => (id === ID ? stored : null);
    const marks = [{ host: 'mx.mailwarden.test', messageId: ID }];
    expect(await processedOriginalOf(ORIGINAL, marks, 'acc', load)).toEqual({ originalId: ID, mismatches: [] });
    const reasons = async (raw: Buffer, account = 'acc', markIds = [ID]) =>
      (await processedOriginalOf(raw, markIds.map((messageId) => ({ host: 'h', messageId })), account, load)).mismatches.map((mismatch) => mismatch.reason);
    expect(await reasons(ORIGINAL, 'other')).toEqual(['other-account']);
    expect(await reasons(ORIGINAL, 'acc', ['0190a000-0000-7000-8000-000000000002'])).toEqual(['unknown-message']);
    expect(await reasons(Buffer.from(ORIGINAL.toString('latin1').replace('<one@', '<two@')))).toEqual(['message-id-differs']);
    expect(await reasons(Buffer.from(ORIGINAL.toString('latin1').replace('the body.', 'pay me.')))).toEqual(['body-differs']);
    // An exact resend of the tenant's own message (same body and Message-ID) under another sender is no copy either.
    expect(await reasons(Buffer.from(ORIGINAL.toString('latin1').replace('From: a@partner.example', 'From: ceo@acme.example')))).toEqual(['headers-differ']);
    expect(await reasons(Buffer.from(ORIGINAL.toString('latin1').replace('Subject: hi', 'Reply-To: thief@evil.example\r\nSubject: hi')))).toEqual(['headers-differ']);
    expect(await reasons(Buffer.from(ORIGINAL.toString('latin1').replace('To: b@acme.example', 'To: b@acme.example, c@acme.example')))).toEqual(['headers-differ']);
    // Folding and the relay's own fields (trace, mark, tagged Subject) do not count.
    const relayed = prepareCopy(Buffer.from(ORIGINAL.toString('latin1').replace('To: b@acme.example', 'To:\r\n b@acme.example')), { host: 'mx.mailwarden.test', messageId: ID, received: { helo: 'x', clientIp: '192.0.2.1', tls: true, date: new Date() }, checks: [], subjectTag: '[SPAM]', markProcessed: true });
    expect(await reasons(relayed)).toEqual([]);
    // A lookup that fails (a mark that is no UUID) is no proof either.
    expect((await processedOriginalOf(ORIGINAL, marks, 'acc', () => Promise.reject(new Error('bad uuid')))).originalId).toBeNull();
  });
});

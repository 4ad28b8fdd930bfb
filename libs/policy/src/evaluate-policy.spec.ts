import fc from 'fast-check';
import type { ContentRule, DataControlSettings } from './data-control.types';
import { evaluatePolicy, mostSevere, tagSubject, type EvaluatePolicyInput, type RecipientPolicyInput } from './evaluate-policy';
import { PolicyEvaluationException } from './policy.errors';
import { resolveDataControlPolicy, resolveEmailSecurityPolicy } from './resolve-policy';
import { DEFAULT_EMAIL_SECURITY_SETTINGS, POLICY_ACTIONS, type EmailSecuritySettings, type PolicyAction } from './policy.types';

const MZ_EXE = Uint8Array.from([0x4d, 0x5a, 0x90, 0x00]);
const NO_RULES: DataControlSettings = { enabled: true, rules: [] };

const security = (overrides: Partial<EmailSecuritySettings> = {}): EmailSecuritySettings => ({
  ...structuredClone(DEFAULT_EMAIL_SECURITY_SETTINGS),
  ...overrides,
});

const recipient = (overrides: Partial<RecipientPolicyInput> = {}): RecipientPolicyInput => ({
  address: 'ann@acme.example',
  emailSecurity: security(),
  dataControl: NO_RULES,
  ...overrides,
});

const input = (overrides: Partial<EvaluatePolicyInput> = {}): EvaluatePolicyInput => ({
  direction: 'INBOUND',
  envelopeSender: 'bob@partner.example',
  headerFrom: 'bob@partner.example',
  content: { subject: 'Quarterly numbers', textParts: ['Hi Ann'], attachments: [] },
  recipients: [recipient()],
  ...overrides,
});

const rule = (id: string, action: PolicyAction, keyword: string, directions: ContentRule['directions'] = ['INBOUND', 'OUTBOUND']): ContentRule => ({
  id,
  kind: 'keyword',
  keywords: [keyword],
  enabled: true,
  action,
  directions,
});

describe(evaluatePolicy.name, () => {
  it('should deliver with no reasons when nothing applies', () => {
    expect(evaluatePolicy(input())).toEqual({ recipients: [{ recipient: 'ann@acme.example', action: 'DELIVER', reasons: [] }] });
  });

  it('should apply the action a failed sender check requests', () => {
    const decision = evaluatePolicy(
      input({ recipients: [recipient({ senderChecks: { failedCheck: 'spf', requestedAction: 'REJECT', detail: 'spf=fail smtp.mailfrom=partner.example' } })] }),
    );
    expect(decision.recipients[0]).toEqual({
      recipient: 'ann@acme.example',
      action: 'REJECT',
      reasons: [{ kind: 'sender-check', source: 'spf', action: 'REJECT', detail: 'spf=fail smtp.mailfrom=partner.example' }],
    });
  });

  it('should refuse a failed sender check without a requested action', () => {
    const bad = input({ recipients: [recipient({ senderChecks: { failedCheck: 'dmarc' } })] });
    expect(() => evaluatePolicy(bad)).toThrow(PolicyEvaluationException);
    expect(() => evaluatePolicy(input({ recipients: [] }))).toThrow(/at least one recipient/);
  });

  describe('allow and block lists', () => {
    const lists = (allow: Partial<EmailSecuritySettings['allowList']>, block: Partial<EmailSecuritySettings['blockList']>) =>
      security({
        allowList: { domains: [], addresses: [], ...allow },
        blockList: { domains: [], addresses: [], ...block },
        blockAction: 'QUARANTINE',
      });

    it('should block a sender on the block list with the block action', () => {
      const decision = evaluatePolicy(input({ recipients: [recipient({ emailSecurity: lists({}, { domains: ['partner.example'] }) })] }));
      expect(decision.recipients[0].action).toBe('QUARANTINE');
      expect(decision.recipients[0].reasons).toEqual([
        { kind: 'block-list', source: 'block-list', action: 'QUARANTINE', detail: 'sender matches block-list domain partner.example' },
      ]);
    });

    it('should block on the header From as well as the envelope sender', () => {
      const decision = evaluatePolicy(
        input({ headerFrom: 'x@spam.example', recipients: [recipient({ emailSecurity: lists({}, { domains: ['spam.example'] }) })] }),
      );
      expect(decision.recipients[0].action).toBe('QUARANTINE');
    });

    it('should let the block list win over an allow-list entry of equal specificity', () => {
      const decision = evaluatePolicy(
        input({ recipients: [recipient({ emailSecurity: lists({ domains: ['partner.example'] }, { domains: ['partner.example'] }) })] }),
      );
      expect(decision.recipients[0].action).toBe('QUARANTINE');
      expect(decision.recipients[0].reasons[0].detail).toContain('beats allow-list domain partner.example');
    });

    it('should let a more specific block entry beat a broader allow entry', () => {
      const decision = evaluatePolicy(
        input({ recipients: [recipient({ emailSecurity: lists({ domains: ['partner.example'] }, { addresses: ['bob@partner.example'] }) })] }),
      );
      expect(decision.recipients[0].action).toBe('QUARANTINE');
    });

    it('should let a more specific allow entry beat a broader block entry', () => {
      const decision = evaluatePolicy(
        input({ recipients: [recipient({ emailSecurity: lists({ addresses: ['bob@partner.example'] }, { domains: ['example'] }) })] }),
      );
      expect(decision.recipients[0]).toMatchObject({
        action: 'DELIVER',
        reasons: [{ kind: 'allow-list', action: 'DELIVER', detail: 'sender matches allow-list address bob@partner.example (more specific than block-list domain example)' }],
      });
    });

    it('should not let a forged header From use the allow list', () => {
      const decision = evaluatePolicy(
        input({ envelopeSender: 'x@spam.example', headerFrom: 'bob@partner.example', recipients: [recipient({ emailSecurity: lists({ domains: ['partner.example'] }, { domains: ['spam.example'] }) })] }),
      );
      expect(decision.recipients[0].action).toBe('QUARANTINE');
    });

    it('should apply lists to inbound mail only and handle the null sender', () => {
      const blocking = recipient({ emailSecurity: lists({}, { domains: ['partner.example'] }) });
      expect(evaluatePolicy(input({ direction: 'OUTBOUND', recipients: [blocking] })).recipients[0].action).toBe('DELIVER');
      expect(evaluatePolicy(input({ envelopeSender: '<>', headerFrom: null, recipients: [blocking] })).recipients[0].action).toBe('DELIVER');
    });

    it('should record that sender checks were skipped for an allow-listed sender', () => {
      const decision = evaluatePolicy(input({ recipients: [recipient({ senderChecks: { skipped: 'allow-list' } })] }));
      expect(decision.recipients[0].reasons).toEqual([
        { kind: 'allow-list', source: 'allow-list', action: 'DELIVER', detail: 'sender checks skipped: sender on the allow list' },
      ]);
    });
  });

  it('should tag the subject with the recipient’s own tag, once', () => {
    const tagging = (tag: string) =>
      recipient({ address: `${tag}@acme.example`, emailSecurity: security({ subjectTag: `[${tag}]` }), senderChecks: { failedCheck: 'dkim', requestedAction: 'TAG_SUBJECT' } });
    const decision = evaluatePolicy(input({ recipients: [tagging('ext'), tagging('warn')] }));
    expect(decision.recipients.map((r) => [r.action, r.subjectTag, r.taggedSubject])).toEqual([
      ['TAG_SUBJECT', '[ext]', '[ext] Quarterly numbers'],
      ['TAG_SUBJECT', '[warn]', '[warn] Quarterly numbers'],
    ]);
    expect(tagSubject('[ext] Quarterly numbers', '[ext]')).toBe('[ext] Quarterly numbers');
    expect(tagSubject('', '[ext]')).toBe('[ext]');
  });

  it('should not tag when a more severe action wins', () => {
    const decision = evaluatePolicy(
      input({
        recipients: [
          recipient({
            senderChecks: { failedCheck: 'dkim', requestedAction: 'TAG_SUBJECT' },
            dataControl: { enabled: true, rules: [rule('numbers', 'QUARANTINE', 'quarterly')] },
          }),
        ],
      }),
    );
    expect(decision.recipients[0].action).toBe('QUARANTINE');
    expect(decision.recipients[0].taggedSubject).toBeUndefined();
  });

  it('should pick the most severe action and order reasons most severe first, then lists, sender checks, rules', () => {
    const decision = evaluatePolicy(
      input({
        content: { subject: 'Quarterly numbers', textParts: ['card 4111 1111 1111 1111, secret'], attachments: [{ filename: 'a.pdf', content: MZ_EXE }] },
        recipients: [
          recipient({
            emailSecurity: security({ blockList: { domains: ['partner.example'], addresses: [] }, blockAction: 'TAG_SUBJECT' }),
            senderChecks: { failedCheck: 'dkim', requestedAction: 'TAG_SUBJECT' },
            dataControl: {
              enabled: true,
              rules: [
                rule('secret', 'TAG_SUBJECT', 'secret'),
                { id: 'pci', kind: 'card-number', enabled: true, action: 'QUARANTINE', directions: ['INBOUND'] },
                { id: 'exe', kind: 'attachment-type', fileTypes: ['exe'], enabled: true, action: 'REJECT', directions: ['INBOUND'] },
                rule('quarterly', 'QUARANTINE', 'quarterly'),
              ],
            },
          }),
        ],
      }),
    );
    const [only] = decision.recipients;
    expect(only.action).toBe('REJECT');
    expect(only.reasons.map((reason) => `${reason.action}:${reason.source}`)).toEqual([
      'REJECT:exe',
      'QUARANTINE:pci',
      'QUARANTINE:quarterly',
      'TAG_SUBJECT:block-list',
      'TAG_SUBJECT:dkim',
      'TAG_SUBJECT:secret',
    ]);
  });

  it('should run only enabled rules for the message’s direction, and none when Data Control is off', () => {
    const rules = [rule('out', 'REJECT', 'numbers', ['OUTBOUND']), { ...rule('off', 'REJECT', 'numbers'), enabled: false }, rule('in', 'QUARANTINE', 'numbers', ['INBOUND'])];
    const evaluate = (direction: EvaluatePolicyInput['direction'], enabled = true) =>
      evaluatePolicy(input({ direction, recipients: [recipient({ dataControl: { enabled, rules } })] })).recipients[0];
    expect(evaluate('INBOUND').reasons.map((reason) => reason.source)).toEqual(['in']);
    expect(evaluate('OUTBOUND').reasons.map((reason) => reason.source)).toEqual(['out']);
    expect(evaluate('EXTERNAL').action).toBe('DELIVER');
    expect(evaluate('INBOUND', false).action).toBe('DELIVER');
  });

  it('should decide per recipient from each recipient’s own effective policy', () => {
    const finance = resolveDataControlPolicy({ account: { id: 'a', settings: { rules: [rule('pci', 'QUARANTINE', 'invoice')] } } });
    const ceo = resolveDataControlPolicy({
      account: { id: 'a', settings: { rules: [rule('pci', 'QUARANTINE', 'invoice')] } },
      user: { id: 'ceo', settings: { rules: [{ ...rule('pci', 'QUARANTINE', 'invoice'), enabled: false }] } },
    });
    const emailSecurity = resolveEmailSecurityPolicy({}).settings;
    const decision = evaluatePolicy(
      input({
        content: { subject: 'Invoice', textParts: [], attachments: [] },
        recipients: [
          recipient({ address: 'Finance@Acme.example', emailSecurity, dataControl: finance.settings }),
          recipient({ address: 'ceo@acme.example', emailSecurity, dataControl: ceo.settings }),
        ],
      }),
    );
    expect(decision.recipients.map((r) => [r.recipient, r.action])).toEqual([
      ['finance@acme.example', 'QUARANTINE'],
      ['ceo@acme.example', 'DELIVER'],
    ]);
  });

  it('should be deterministic and decide the most severe reason, for any mix of rule actions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...POLICY_ACTIONS), fc.boolean()), { maxLength: 8 }),
        fc.option(fc.constantFrom(...POLICY_ACTIONS), { nil: undefined }),
        (ruleSpecs, senderAction) => {
          const rules = ruleSpecs.map(([action, hits], index) => rule(`r${index}`, action, hits ? 'numbers' : 'absent'));
          const subject = input({
            recipients: [
              recipient({
                dataControl: { enabled: true, rules },
                senderChecks: senderAction ? { failedCheck: 'dmarc', requestedAction: senderAction } : undefined,
              }),
            ],
          });
          const first = evaluatePolicy(subject);
          expect(evaluatePolicy(structuredClone(subject))).toEqual(first);
          const expected = [...ruleSpecs.filter(([, hits]) => hits).map(([action]) => action), ...(senderAction ? [senderAction] : [])].reduce<PolicyAction>(
            mostSevere,
            'DELIVER',
          );
          expect(first.recipients[0].action).toBe(expected);
          expect(first.recipients[0].reasons[0]?.action ?? 'DELIVER').toBe(expected);
        },
      ),
    );
  });
});

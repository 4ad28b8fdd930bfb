import { PolicyValidationCode } from './policy.errors';
import {
  isValidAddress,
  isValidDomainName,
  validateDataControlLocks,
  validateDataControlSettings,
  validateEmailSecurityLocks,
  validateEmailSecuritySettings,
} from './validate-settings';

const fields = (errors: { field: string; code: string }[]) => errors.map((error) => [error.field, error.code]);

describe(validateEmailSecuritySettings.name, () => {
  it('should accept an empty patch and a full valid patch', () => {
    expect(validateEmailSecuritySettings({})).toEqual([]);
    expect(
      validateEmailSecuritySettings({
        senderChecks: {
          dmarc: { enabled: true, action: 'FOLLOW_SENDER_POLICY' },
          spf: { action: 'REJECT' },
          dkim: { enabled: false },
          headerAnomaly: { action: 'QUARANTINE' },
          trustedArcSealers: ['google.com'],
        },
        allowList: { domains: ['Partner.Example.'], addresses: ['ceo@partner.example'] },
        blockList: { domains: ['ru'], addresses: ['spam@bad.example'] },
        blockAction: 'QUARANTINE',
        subjectTag: '[EXTERNAL]',
      }),
    ).toEqual([]);
  });

  it('should name every bad field with a typed code', () => {
    const errors = validateEmailSecuritySettings({
      senderChecks: { dmarc: { action: 'FOLLOW' }, spf: { action: 'FOLLOW_SENDER_POLICY', enabled: 'yes' }, sender: {} },
      allowList: { domains: ['com', 'exa mple.com'], addresses: ['nobody'] },
      blockList: 'spam.example',
      blockAction: 'DELIVER',
      extra: 1,
    });
    expect(fields(errors)).toEqual([
      ['extra', PolicyValidationCode.UnknownField],
      ['senderChecks.sender', PolicyValidationCode.UnknownField],
      ['senderChecks.dmarc.action', PolicyValidationCode.InvalidValue],
      ['senderChecks.spf.enabled', PolicyValidationCode.InvalidType],
      ['senderChecks.spf.action', PolicyValidationCode.InvalidValue],
      ['allowList.domains[0]', PolicyValidationCode.InvalidDomain],
      ['allowList.domains[1]', PolicyValidationCode.InvalidDomain],
      ['allowList.addresses[0]', PolicyValidationCode.InvalidAddress],
      ['blockList', PolicyValidationCode.InvalidType],
      ['blockAction', PolicyValidationCode.InvalidValue],
    ]);
  });

  it.each([
    ['', PolicyValidationCode.Required],
    ['x'.repeat(65), PolicyValidationCode.TooLong],
    ['[TAG]\r\nBcc: victim@example.com', PolicyValidationCode.InvalidValue],
    [7, PolicyValidationCode.InvalidType],
  ])('should refuse the subject tag %j', (subjectTag, code) => {
    expect(fields(validateEmailSecuritySettings({ subjectTag }))).toEqual([['subjectTag', code]]);
  });

  it('should refuse a body that is not an object', () => {
    expect(fields(validateEmailSecuritySettings(null))).toEqual([['(root)', PolicyValidationCode.InvalidType]]);
    expect(fields(validateEmailSecuritySettings([]))).toEqual([['(root)', PolicyValidationCode.InvalidType]]);
  });
});

describe(validateDataControlSettings.name, () => {
  const base = { enabled: true, action: 'QUARANTINE', directions: ['OUTBOUND'] };

  it('should accept one valid rule of each kind', () => {
    expect(
      validateDataControlSettings({
        enabled: true,
        rules: [
          { ...base, id: 'kw', kind: 'keyword', keywords: ['confidential'], targets: ['subject', 'body'] },
          { ...base, id: 'rx', kind: 'regex', pattern: '\\bACME-\\d{6}\\b', caseInsensitive: true },
          { ...base, id: 'pci', kind: 'card-number', name: 'Card numbers' },
          { ...base, id: 'exe', kind: 'attachment-type', fileTypes: ['exe', 'script'], match: 'either' },
        ],
      }),
    ).toEqual([]);
  });

  it('should refuse a pattern RE2 cannot compile (backreference) with RE2 message', () => {
    const errors = validateDataControlSettings({ rules: [{ ...base, id: 'rx', kind: 'regex', pattern: '(a)\\1' }] });
    expect(fields(errors)).toEqual([['rules[0].pattern', PolicyValidationCode.InvalidRegex]]);
    expect(errors[0].message).toMatch(/not a valid RE2 pattern .*\\1/);
  });

  it('should refuse lookahead and a pattern that matches the empty string', () => {
    const errors = validateDataControlSettings({
      rules: [
        { ...base, id: 'look', kind: 'regex', pattern: 'pass(?=word)' },
        { ...base, id: 'empty', kind: 'regex', pattern: 'x*' },
      ],
    });
    expect(fields(errors)).toEqual([
      ['rules[0].pattern', PolicyValidationCode.InvalidRegex],
      ['rules[1].pattern', PolicyValidationCode.RegexMatchesEmpty],
    ]);
  });

  it('should refuse duplicate ids, bad ids, missing fields and values outside the enums', () => {
    const errors = validateDataControlSettings({
      enabled: 'no',
      rules: [
        { ...base, id: 'dup', kind: 'card-number' },
        { ...base, id: 'dup', kind: 'card-number' },
        { id: 'has.dot', kind: 'keyword', keywords: [], directions: [] },
        { ...base, id: 'ft', kind: 'attachment-type', fileTypes: ['docx'], match: 'magic', keywords: ['x'] },
        { ...base, id: 'k', kind: 'unknown' },
      ],
    });
    expect(fields(errors)).toEqual([
      ['enabled', PolicyValidationCode.InvalidType],
      ['rules[1].id', PolicyValidationCode.DuplicateRuleId],
      ['rules[2].id', PolicyValidationCode.InvalidValue],
      ['rules[2].enabled', PolicyValidationCode.Required],
      ['rules[2].action', PolicyValidationCode.Required],
      ['rules[2].directions', PolicyValidationCode.InvalidValue],
      ['rules[2].keywords', PolicyValidationCode.Required],
      ['rules[3].keywords', PolicyValidationCode.UnknownField],
      ['rules[3].fileTypes[0]', PolicyValidationCode.InvalidValue],
      ['rules[3].match', PolicyValidationCode.InvalidValue],
      ['rules[4].kind', PolicyValidationCode.InvalidValue],
    ]);
  });
});

describe('lock validation', () => {
  it('should accept option paths and their prefixes, and refuse anything else', () => {
    expect(validateEmailSecurityLocks(['senderChecks.dmarc.action', 'senderChecks', 'allowList', 'subjectTag'])).toEqual([]);
    expect(fields(validateEmailSecurityLocks(['dmarc.action', 'senderChecks.dm', 3]))).toEqual([
      ['locks[0]', PolicyValidationCode.UnknownLockPath],
      ['locks[1]', PolicyValidationCode.UnknownLockPath],
      ['locks[2]', PolicyValidationCode.InvalidType],
    ]);
    expect(validateDataControlLocks(['enabled', 'rules', 'rules.pci'])).toEqual([]);
    expect(fields(validateDataControlLocks(['rules.a.b']))).toEqual([['locks[0]', PolicyValidationCode.UnknownLockPath]]);
  });
});

describe(isValidDomainName.name, () => {
  it.each([
    ['example.com', 1, true],
    ['EXAMPLE.com.', 1, true],
    ['xn--bcher-kva.example', 2, true],
    ['com', 1, true],
    ['com', 2, false],
    ['-bad.example', 1, false],
    ['bad-.example', 1, false],
    ['a..b', 1, false],
    [`${'a'.repeat(64)}.example`, 1, false],
    ['', 1, false],
  ])('should judge %j (min %i labels) valid=%s', (domain, minLabels, valid) => {
    expect(isValidDomainName(domain, minLabels)).toBe(valid);
  });
});

describe(isValidAddress.name, () => {
  it.each([
    ['user@example.com', true],
    ['first.last+tag@sub.example.com', true],
    ['@example.com', false],
    ['user@', false],
    ['user name@example.com', false],
    ['user@localhost', false],
    [`${'a'.repeat(65)}@example.com`, false],
  ])('should judge %j valid=%s', (address, valid) => {
    expect(isValidAddress(address)).toBe(valid);
  });
});

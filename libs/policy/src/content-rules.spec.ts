import { inspectMessage, matchContentRule } from './content-rules';
import type { AttachmentTypeRule, ContentRule, KeywordRule, PolicyDirection, RegexRule } from './data-control.types';
import type { MessageContent } from './message-content.types';
import { PolicyValidationException } from './policy.errors';

const base = { enabled: true, action: 'QUARANTINE' as const, directions: ['OUTBOUND'] as PolicyDirection[] };
const text = (body: string, subject = 'Hello'): MessageContent => ({ subject, textParts: [body], attachments: [] });
const match = (rule: ContentRule, content: MessageContent) => matchContentRule(rule, inspectMessage(content));

const MZ_EXE = Uint8Array.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00]);
const PDF = new Uint8Array(Buffer.from('%PDF-1.7\n1 0 obj\n'));

describe(matchContentRule.name, () => {
  describe('keyword rules', () => {
    const rule: KeywordRule = { ...base, id: 'kw', kind: 'keyword', keywords: ['confidential', 'streng geheim', 'C#'] };

    it('should match case-insensitively on word boundaries and say where', () => {
      expect(match(rule, text('This is CONFIDENTIAL.'))).toEqual({ ruleId: 'kw', detail: 'keyword "confidential" found in body' });
      expect(match(rule, text('x', 'Streng Geheim: plan'))).toEqual({ ruleId: 'kw', detail: 'keyword "streng geheim" found in subject' });
      expect(match(rule, text('we write C# daily'))).not.toBeNull();
    });

    it('should not match inside a longer word, including non-ASCII letters', () => {
      expect(match(rule, text('nonconfidential and confidentiality'))).toBeNull();
      expect(match(rule, text('überconfidential'))).toBeNull();
      expect(match(rule, text('confidential_2'))).toBeNull();
    });

    it('should search only the configured targets', () => {
      const subjectOnly: ContentRule = { ...rule, targets: ['subject'] };
      expect(match(subjectOnly, text('confidential body'))).toBeNull();
      const attachments: ContentRule = { ...rule, targets: ['attachments'] };
      const content: MessageContent = {
        subject: 's',
        textParts: [],
        attachments: [{ filename: 'notes.txt', content: new Uint8Array(), extractedText: 'confidential notes' }],
      };
      expect(match(attachments, content)).toEqual({ ruleId: 'kw', detail: 'keyword "confidential" found in attachment "notes.txt"' });
    });
  });

  describe('regular expression rules', () => {
    it('should match with RE2 and honour caseInsensitive', () => {
      const rule: RegexRule = { ...base, id: 'proj', kind: 'regex', pattern: 'project-[0-9]{4}' };
      expect(match(rule, text('see project-1234'))).toEqual({ ruleId: 'proj', detail: 'pattern /project-[0-9]{4}/ matched in body' });
      expect(match(rule, text('see PROJECT-1234'))).toBeNull();
      expect(match({ ...rule, caseInsensitive: true }, text('see PROJECT-1234'))).not.toBeNull();
    });

    it('should throw for a stored pattern RE2 cannot compile instead of silently not matching', () => {
      const rule: ContentRule = { ...base, id: 'bad', kind: 'regex', pattern: '(a)\\1' };
      expect(() => match(rule, text('aa'))).toThrow(PolicyValidationException);
    });
  });

  describe('card number rules', () => {
    const rule: ContentRule = { ...base, id: 'pci', kind: 'card-number' };

    it('should match a Luhn-valid number and never put the number in the detail', () => {
      const result = match(rule, { subject: 's', textParts: ['intro', 'card 4111-1111-1111-1111 exp 12/27'], attachments: [] });
      expect(result).toEqual({ ruleId: 'pci', detail: 'card number (Luhn-valid, first ends 1111) found in body part 2' });
    });

    it('should not match a Luhn-invalid number', () => {
      expect(match(rule, text('card 4111-1111-1111-1112'))).toBeNull();
    });
  });

  describe('attachment type rules', () => {
    const rule: AttachmentTypeRule = { ...base, id: 'exe', kind: 'attachment-type', fileTypes: ['exe'] };
    const withAttachment = (filename: string | null, content: Uint8Array): MessageContent => ({
      subject: 's',
      textParts: [],
      attachments: [{ filename, content }],
    });

    it('should catch an executable renamed to .pdf by its content', () => {
      expect(match(rule, withAttachment('invoice.pdf', MZ_EXE))).toEqual({
        ruleId: 'exe',
        detail: 'attachment "invoice.pdf" is exe by content, named as pdf',
      });
      expect(match(rule, withAttachment(null, MZ_EXE))).toEqual({ ruleId: 'exe', detail: 'attachment #1 is exe by content, named as an unknown type' });
    });

    it('should miss the renamed executable when told to match by name only, and catch it by content only', () => {
      expect(match({ ...rule, match: 'name' }, withAttachment('invoice.pdf', MZ_EXE))).toBeNull();
      expect(match({ ...rule, match: 'content' }, withAttachment('invoice.pdf', MZ_EXE))).not.toBeNull();
    });

    it('should match by name a file whose content is not recognised, unless matching by content only', () => {
      const junk = new Uint8Array([1, 2, 3]);
      expect(match(rule, withAttachment('setup.EXE', junk))).toEqual({ ruleId: 'exe', detail: 'attachment "setup.EXE" is exe by name' });
      expect(match({ ...rule, match: 'content' }, withAttachment('setup.exe', junk))).toBeNull();
    });

    it('should not match a genuine PDF against an exe rule', () => {
      expect(match(rule, withAttachment('invoice.pdf', PDF))).toBeNull();
      expect(match({ ...rule, fileTypes: ['pdf'] }, withAttachment('invoice.pdf', PDF))).toEqual({
        ruleId: 'exe',
        detail: 'attachment "invoice.pdf" is pdf by content',
      });
    });
  });
});

import { findCardNumbers } from './card-numbers';
import type {
  AttachmentFileType,
  AttachmentTypeRule,
  ContentRule,
  ContentTarget,
  KeywordRule,
  RegexRule,
} from './data-control.types';
import { fileTypeFromName, sniffFileType } from './file-type-sniffer';
import type { MessageAttachment, MessageContent } from './message-content.types';
import { PolicyValidationException, PolicyValidationCode } from './policy.errors';
import { compileSafeRegex } from './safe-regex';

/** Why a rule matched, for the verdict's reasons. Never contains matched content (it may be the sensitive data itself). */
export interface ContentRuleMatch {
  ruleId: string;
  detail: string;
}

interface TextSection {
  label: string;
  text: string;
}

/** Attachment facts computed once per message and shared by every rule and recipient. */
export interface InspectedAttachment {
  label: string;
  byName: AttachmentFileType | null;
  byContent: AttachmentFileType | null;
}

/** Pre-computed views of one message; build it once with inspectMessage and pass it to every rule. */
export interface InspectedMessage {
  sections: Record<ContentTarget, TextSection[]>;
  attachments: InspectedAttachment[];
}

const attachmentLabel = (attachment: MessageAttachment, index: number): string =>
  attachment.filename ? `attachment "${attachment.filename}"` : `attachment #${index + 1}`;

export function inspectMessage(content: MessageContent): InspectedMessage {
  return {
    sections: {
      subject: [{ label: 'subject', text: content.subject }],
      body: content.textParts.map((text, index) => ({ label: content.textParts.length > 1 ? `body part ${index + 1}` : 'body', text })),
      attachments: content.attachments.flatMap((attachment, index) =>
        attachment.extractedText ? [{ label: attachmentLabel(attachment, index), text: attachment.extractedText }] : [],
      ),
    },
    attachments: content.attachments.map((attachment, index) => ({
      label: attachmentLabel(attachment, index),
      byName: fileTypeFromName(attachment.filename),
      byContent: sniffFileType(attachment.content),
    })),
  };
}

const ALL_TARGETS: readonly ContentTarget[] = ['subject', 'body', 'attachments'];

function sectionsFor(message: InspectedMessage, targets: readonly ContentTarget[] | undefined): TextSection[] {
  return (targets ?? ALL_TARGETS).flatMap((target) => message.sections[target]);
}

const WORD_CHAR = '[\\p{L}\\p{N}_]';
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * Keywords match case-insensitively and only as whole words: not preceded or followed by a Unicode letter, digit
 * or underscore (so "secret" does not match "secretary", and "geheim" works like "confidential"). The keyword is
 * escaped, so this native RegExp is a literal search with two fixed-width lookarounds: no backtracking risk.
 */
function keywordRegExp(keyword: string): RegExp {
  let regex = keywordCache.get(keyword);
  if (!regex) {
    regex = new RegExp(`(?<!${WORD_CHAR})${escapeRegExp(keyword.trim())}(?!${WORD_CHAR})`, 'iu');
    if (keywordCache.size >= KEYWORD_CACHE_LIMIT) {
      keywordCache.delete(keywordCache.keys().next().value as string);
    }
    keywordCache.set(keyword, regex);
  }
  return regex;
}

// No `g` flag, so `test` keeps no lastIndex state and a cached RegExp is safe to share.
const keywordCache = new Map<string, RegExp>();
const KEYWORD_CACHE_LIMIT = 10000;

function matchKeyword(rule: KeywordRule, message: InspectedMessage): ContentRuleMatch | null {
  const sections = sectionsFor(message, rule.targets);
  for (const keyword of rule.keywords) {
    const regex = keywordRegExp(keyword);
    const section = sections.find((candidate) => regex.test(candidate.text));
    if (section) {
      return { ruleId: rule.id, detail: `keyword "${keyword.trim()}" found in ${section.label}` };
    }
  }
  return null;
}

function matchRegex(rule: RegexRule, message: InspectedMessage): ContentRuleMatch | null {
  const compiled = compileSafeRegex(rule.pattern, rule.caseInsensitive === true);
  if (!compiled.ok) {
    // Validation refuses such patterns; a stored one that slipped through is bad input, not a non-match.
    throw new PolicyValidationException(
      [{ field: 'pattern', code: PolicyValidationCode.InvalidRegex, message: compiled.error }],
      `data control rule ${rule.id}`,
    );
  }
  const section = sectionsFor(message, rule.targets).find((candidate) => compiled.regex.test(candidate.text));
  return section ? { ruleId: rule.id, detail: `pattern /${rule.pattern}/ matched in ${section.label}` } : null;
}

function matchCardNumber(rule: ContentRule & { targets?: ContentTarget[] }, message: InspectedMessage): ContentRuleMatch | null {
  for (const section of sectionsFor(message, rule.targets)) {
    const cards = findCardNumbers(section.text);
    if (cards.length > 0) {
      const first = cards[0];
      const count = cards.length > 1 ? `${cards.length} card numbers` : 'card number';
      return { ruleId: rule.id, detail: `${count} (Luhn-valid, first ends ${first.last4}) found in ${section.label}` };
    }
  }
  return null;
}

function matchAttachmentType(rule: AttachmentTypeRule, message: InspectedMessage): ContentRuleMatch | null {
  const mode = rule.match ?? 'either';
  const wanted = new Set(rule.fileTypes);
  for (const attachment of message.attachments) {
    const contentHit = mode !== 'name' && attachment.byContent !== null && wanted.has(attachment.byContent);
    const nameHit = mode !== 'content' && attachment.byName !== null && wanted.has(attachment.byName);
    if (contentHit) {
      const disguised =
        attachment.byName !== attachment.byContent ? `, named as ${attachment.byName ?? 'an unknown type'}` : '';
      return { ruleId: rule.id, detail: `${attachment.label} is ${attachment.byContent} by content${disguised}` };
    }
    if (nameHit) {
      return { ruleId: rule.id, detail: `${attachment.label} is ${attachment.byName} by name` };
    }
  }
  return null;
}

/** Evaluates one content rule against a message; null when it does not match. Direction and `enabled` are the caller's concern. */
export function matchContentRule(rule: ContentRule, message: InspectedMessage): ContentRuleMatch | null {
  switch (rule.kind) {
    case 'keyword':
      return matchKeyword(rule, message);
    case 'regex':
      return matchRegex(rule, message);
    case 'card-number':
      return matchCardNumber(rule, message);
    case 'attachment-type':
      return matchAttachmentType(rule, message);
  }
}

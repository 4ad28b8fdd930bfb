import type { PolicyAction } from './policy.types';

/** Message direction as recorded on the message (same literals as the database enum `MessageDirection`). */
export type PolicyDirection = 'INBOUND' | 'OUTBOUND' | 'INTERNAL' | 'EXTERNAL';

export const POLICY_DIRECTIONS: readonly PolicyDirection[] = ['INBOUND', 'OUTBOUND', 'INTERNAL', 'EXTERNAL'];

/** Where keyword, regular-expression and card-number rules look. `attachments` means attachment text the caller extracted. */
export type ContentTarget = 'subject' | 'body' | 'attachments';

export const CONTENT_TARGETS: readonly ContentTarget[] = ['subject', 'body', 'attachments'];

/**
 * File types an attachment rule can name. Most are recognised both by extension and by content (magic bytes);
 * `script` is recognised by extension only (scripts are plain text and carry no signature).
 * `ooxml` (docx/xlsx/pptx…) is a ZIP container but is reported as `ooxml`, not `zip`, so that a rule against
 * archives does not catch every Office document.
 */
export type AttachmentFileType =
  | 'pdf'
  | 'zip'
  | 'ooxml'
  | 'ole2'
  | 'exe'
  | 'elf'
  | 'macho'
  | 'rar'
  | '7z'
  | 'gzip'
  | 'bzip2'
  | 'xz'
  | 'cab'
  | 'iso'
  | 'script';

export const ATTACHMENT_FILE_TYPES: readonly AttachmentFileType[] = [
  'pdf',
  'zip',
  'ooxml',
  'ole2',
  'exe',
  'elf',
  'macho',
  'rar',
  '7z',
  'gzip',
  'bzip2',
  'xz',
  'cab',
  'iso',
  'script',
];

/** `name`: by extension only; `content`: by magic bytes only; `either` (default): a renamed file is still caught. */
export type AttachmentMatchMode = 'name' | 'content' | 'either';

interface ContentRuleBase {
  /** Stable id, unique within a policy: letters, digits, `_` and `-` (it appears in lock paths `rules.<id>`). */
  id: string;
  /** Shown to admins; optional. */
  name?: string;
  enabled: boolean;
  action: PolicyAction;
  /** Directions the rule applies to; at least one. */
  directions: PolicyDirection[];
}

export interface KeywordRule extends ContentRuleBase {
  kind: 'keyword';
  /** Matched case-insensitively on word boundaries (a keyword inside a longer word does not match). */
  keywords: string[];
  /** Default: every target. */
  targets?: ContentTarget[];
}

export interface RegexRule extends ContentRuleBase {
  kind: 'regex';
  /** RE2 syntax (linear-time matching: no backreferences, no lookaround). */
  pattern: string;
  caseInsensitive?: boolean;
  targets?: ContentTarget[];
}

export interface CardNumberRule extends ContentRuleBase {
  kind: 'card-number';
  targets?: ContentTarget[];
}

export interface AttachmentTypeRule extends ContentRuleBase {
  kind: 'attachment-type';
  fileTypes: AttachmentFileType[];
  /** Default `either`. */
  match?: AttachmentMatchMode;
}

export type ContentRule = KeywordRule | RegexRule | CardNumberRule | AttachmentTypeRule;

export type ContentRuleKind = ContentRule['kind'];

export const CONTENT_RULE_KINDS: readonly ContentRuleKind[] = ['keyword', 'regex', 'card-number', 'attachment-type'];

export interface DataControlSettings {
  /** Master switch: when false no content rule runs. */
  enabled: boolean;
  /** Effective rules in resolution order (highest level first); ids are unique. */
  rules: ContentRule[];
}

export const DEFAULT_DATA_CONTROL_SETTINGS: DataControlSettings = { enabled: true, rules: [] };

/** A partial Data Control policy as stored at one level. `rules` add to (or, by id, replace) the rules above. */
export interface DataControlSettingsPatch {
  enabled?: boolean;
  rules?: ContentRule[];
}

import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import {
  ATTACHMENT_FILE_TYPES,
  DEFAULT_RETENTION,
  MAX_RETENTION,
  CONTENT_TARGETS,
  MAX_KEYWORD_LENGTH,
  MAX_KEYWORDS_PER_RULE,
  MAX_LIST_ENTRIES,
  MAX_RULES,
  MAX_SUBJECT_TAG_LENGTH,
  POLICY_ACTIONS,
  POLICY_DIRECTIONS,
} from '@mailwarden/policy';

/*
 * The policy settings as OpenAPI schemas (issue 13 §4): documentation of what libs/policy's validators accept, so an
 * integrator sees every field and rule kind up front. Validation itself stays in libs/policy (validate-settings.ts);
 * policy-settings.schema.int-spec.ts checks that every option path of libs/policy is described here.
 */

const DMARC_ACTIONS = [...POLICY_ACTIONS, 'FOLLOW_SENDER_POLICY'];

export class SenderCheckSettingDto {
  @ApiPropertyOptional({ description: 'Run this check' })
  enabled?: boolean;

  @ApiPropertyOptional({ enum: POLICY_ACTIONS, description: 'Action when the check fails' })
  action?: string;
}

export class DmarcCheckSettingDto {
  @ApiPropertyOptional({ description: 'Run the DMARC check' })
  enabled?: boolean;

  @ApiPropertyOptional({ enum: DMARC_ACTIONS, description: "Action on a DMARC failure; FOLLOW_SENDER_POLICY (default) applies the sender's p= / sp=" })
  action?: string;
}

export class SenderChecksSettingsDto {
  @ApiPropertyOptional({ type: DmarcCheckSettingDto })
  dmarc?: DmarcCheckSettingDto;

  @ApiPropertyOptional({ type: SenderCheckSettingDto, description: 'Applies to SPF fail only (softfail never triggers it)' })
  spf?: SenderCheckSettingDto;

  @ApiPropertyOptional({ type: SenderCheckSettingDto, description: 'A DKIM signature present that fails verification' })
  dkim?: SenderCheckSettingDto;

  @ApiPropertyOptional({ type: SenderCheckSettingDto, description: "Header From is the recipient's own domain and differs from the envelope sender" })
  headerAnomaly?: SenderCheckSettingDto;

  @ApiPropertyOptional({ type: [String], maxItems: MAX_LIST_ENTRIES, description: 'ARC sealers (d= of ARC-Seal) whose passing chain overrides a DMARC failure' })
  trustedArcSealers?: string[];
}

export class AddressListDto {
  @ApiPropertyOptional({ type: [String], maxItems: MAX_LIST_ENTRIES, description: 'Domains (and their subdomains)', example: ['partner.example'] })
  domains?: string[];

  @ApiPropertyOptional({ type: [String], maxItems: MAX_LIST_ENTRIES, description: 'Exact addresses', example: ['billing@partner.example'] })
  addresses?: string[];
}

/** Email Security settings at one scope; every field optional (a level sets only what it changes). */
export class EmailSecuritySettingsDto {
  @ApiPropertyOptional({ type: SenderChecksSettingsDto })
  senderChecks?: SenderChecksSettingsDto;

  @ApiPropertyOptional({ type: AddressListDto, description: 'Inbound allow list: senders on it skip the sender checks' })
  allowList?: AddressListDto;

  @ApiPropertyOptional({ type: AddressListDto, description: 'Inbound block list: senders on it get blockAction' })
  blockList?: AddressListDto;

  @ApiPropertyOptional({ enum: POLICY_ACTIONS, description: 'Action for senders on the block list' })
  blockAction?: string;

  @ApiPropertyOptional({ maxLength: MAX_SUBJECT_TAG_LENGTH, description: 'Text put before the Subject for TAG_SUBJECT (no CR/LF)', example: '[SUSPICIOUS]' })
  subjectTag?: string;
}

/** Fields every data-control rule has. */
export abstract class ContentRuleBaseDto {
  @ApiProperty({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$', description: 'Stable id, unique within the policy (lock path rules.<id>)', example: 'cards' })
  id!: string;

  @ApiPropertyOptional({ maxLength: 200, description: 'Shown to admins' })
  name?: string;

  @ApiProperty()
  enabled!: boolean;

  @ApiProperty({ enum: POLICY_ACTIONS })
  action!: string;

  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...POLICY_DIRECTIONS] }, minItems: 1, description: 'Directions the rule applies to' })
  directions!: string[];
}

const TARGETS = { type: 'array' as const, items: { type: 'string' as const, enum: [...CONTENT_TARGETS] }, minItems: 1, description: 'Where to look (default: all)' };

export class KeywordRuleDto extends ContentRuleBaseDto {
  @ApiProperty({ enum: ['keyword'] })
  kind!: 'keyword';

  @ApiProperty({ type: 'array', items: { type: 'string', maxLength: MAX_KEYWORD_LENGTH }, minItems: 1, maxItems: MAX_KEYWORDS_PER_RULE, description: 'Matched case-insensitively on word boundaries' })
  keywords!: string[];

  @ApiPropertyOptional(TARGETS)
  targets?: string[];
}

export class RegexRuleDto extends ContentRuleBaseDto {
  @ApiProperty({ enum: ['regex'] })
  kind!: 'regex';

  @ApiProperty({ description: 'RE2 syntax (linear time: no backreferences, no lookaround)', example: '\\bproject\\s+falcon\\b' })
  pattern!: string;

  @ApiPropertyOptional()
  caseInsensitive?: boolean;

  @ApiPropertyOptional(TARGETS)
  targets?: string[];
}

export class CardNumberRuleDto extends ContentRuleBaseDto {
  @ApiProperty({ enum: ['card-number'], description: 'Payment card numbers (Luhn-checked)' })
  kind!: 'card-number';

  @ApiPropertyOptional(TARGETS)
  targets?: string[];
}

export class AttachmentTypeRuleDto extends ContentRuleBaseDto {
  @ApiProperty({ enum: ['attachment-type'] })
  kind!: 'attachment-type';

  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...ATTACHMENT_FILE_TYPES] }, minItems: 1 })
  fileTypes!: string[];

  @ApiPropertyOptional({ enum: ['name', 'content', 'either'], description: 'By extension, by content (magic bytes), or either (default)' })
  match?: string;
}

/** Every data-control rule kind, keyed by `kind` (the OpenAPI discriminator). */
export const CONTENT_RULE_SCHEMAS = { keyword: KeywordRuleDto, regex: RegexRuleDto, 'card-number': CardNumberRuleDto, 'attachment-type': AttachmentTypeRuleDto } as const;

/** Data Control settings at one scope: `rules` add to (or, by id, replace) the rules of the levels above. */
export class DataControlSettingsDto {
  @ApiPropertyOptional({ description: 'Master switch: when false no content rule runs' })
  enabled?: boolean;

  @ApiPropertyOptional({
    type: 'array',
    maxItems: MAX_RULES,
    items: {
      oneOf: Object.values(CONTENT_RULE_SCHEMAS).map((schema) => ({ $ref: getSchemaPath(schema) })),
      discriminator: { propertyName: 'kind', mapping: Object.fromEntries(Object.entries(CONTENT_RULE_SCHEMAS).map(([kind, schema]) => [kind, getSchemaPath(schema)])) },
    },
  })
  rules?: Array<KeywordRuleDto | RegexRuleDto | CardNumberRuleDto | AttachmentTypeRuleDto>;
}

/** The models the settings schemas reference (for @ApiExtraModels). */
/** Retention windows in days (issue 20): the account's at ACCOUNT scope, the partner's ceiling at partner scope. */
export class RetentionSettingsDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_RETENTION.historyDays, default: DEFAULT_RETENTION.historyDays, description: 'Message history and verdicts' })
  historyDays?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_RETENTION.quarantineDays, default: DEFAULT_RETENTION.quarantineDays, description: 'Quarantine items expire (deleted, audited as expired)' })
  quarantineDays?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_RETENTION.auditLogDays, default: DEFAULT_RETENTION.auditLogDays, description: 'The admin audit log' })
  auditLogDays?: number;
}

export const POLICY_SETTINGS_MODELS = [EmailSecuritySettingsDto, DataControlSettingsDto, RetentionSettingsDto, ...Object.values(CONTENT_RULE_SCHEMAS)];

/** `settings` of a policy: Email Security or Data Control, by the path's `kind`. */
export const POLICY_SETTINGS_SCHEMA = {
  oneOf: [{ $ref: getSchemaPath(EmailSecuritySettingsDto) }, { $ref: getSchemaPath(DataControlSettingsDto) }, { $ref: getSchemaPath(RetentionSettingsDto) }],
  description:
    'EmailSecuritySettings for kind email-security, DataControlSettings for kind data-control, RetentionSettings for kind retention (account scope only; at partner scope a ceiling: 409 RETENTION_ABOVE_CEILING above it); validated by libs/policy (400 POLICY_INVALID with errors[].field = the path, e.g. settings.rules[2].pattern)',
};

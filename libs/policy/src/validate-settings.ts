import {
  ATTACHMENT_FILE_TYPES,
  CONTENT_RULE_KINDS,
  CONTENT_TARGETS,
  POLICY_DIRECTIONS,
  type DataControlSettingsPatch,
} from './data-control.types';
import { PolicyValidationCode, type PolicyValidationError } from './policy.errors';
import { DATA_CONTROL_OPTIONS, EMAIL_SECURITY_OPTIONS, RULE_ID_PATTERN, isKnownLockPath } from './policy-options';
import type { EmailSecuritySettingsPatch } from './policy-resolution.types';
import { POLICY_ACTIONS } from './policy.types';
import { compileSafeRegex } from './safe-regex';

export const MAX_SUBJECT_TAG_LENGTH = 64;
export const MAX_LIST_ENTRIES = 10000;
export const MAX_RULES = 500;
export const MAX_KEYWORDS_PER_RULE = 1000;
export const MAX_KEYWORD_LENGTH = 200;

// RFC 1035 2.3.4 / RFC 1123 2.1: labels of letters, digits and hyphens, 63 octets each, 253 in all (no root dot).
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const DMARC_ACTIONS: readonly string[] = [...POLICY_ACTIONS, 'FOLLOW_SENDER_POLICY'];

type Errors = PolicyValidationError[];

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function push(errors: Errors, field: string, code: PolicyValidationCode, message: string): void {
  errors.push({ field, code, message });
}

/** Reports unknown keys; returns false (and reports) when `value` is not an object at all. */
function checkObject(errors: Errors, field: string, value: unknown, allowed: readonly string[]): value is Record<string, unknown> {
  if (!isPlainObject(value)) {
    push(errors, field || '(root)', PolicyValidationCode.InvalidType, 'must be an object');
    return false;
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      push(errors, join(field, key), PolicyValidationCode.UnknownField, `unknown field (allowed: ${allowed.join(', ')})`);
    }
  }
  return true;
}

const join = (field: string, key: string): string => (field ? `${field}.${key}` : key);

function checkBoolean(errors: Errors, field: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean') {
    push(errors, field, PolicyValidationCode.InvalidType, 'must be a boolean');
  }
}

function checkEnum(errors: Errors, field: string, value: unknown, allowed: readonly string[]): void {
  if (value !== undefined && (typeof value !== 'string' || !allowed.includes(value))) {
    push(errors, field, PolicyValidationCode.InvalidValue, `must be one of ${allowed.join(', ')}`);
  }
}

function checkStringArray(errors: Errors, field: string, value: unknown, max: number, each: (entry: string, at: string) => void): void {
  if (value === undefined) {
    return;
  }
  if (!Array.isArray(value)) {
    push(errors, field, PolicyValidationCode.InvalidType, 'must be an array of strings');
    return;
  }
  if (value.length > max) {
    push(errors, field, PolicyValidationCode.TooLong, `must have at most ${max} entries`);
  }
  value.forEach((entry, index) => {
    const at = `${field}[${index}]`;
    if (typeof entry !== 'string') {
      push(errors, at, PolicyValidationCode.InvalidType, 'must be a string');
    } else {
      each(entry, at);
    }
  });
}

/** True for a syntactically valid domain name (case-insensitive, optional root dot); `minLabels` guards against allow-listing a TLD. */
export function isValidDomainName(domain: string, minLabels = 1): boolean {
  const name = domain.trim().toLowerCase().replace(/\.$/, '');
  if (name.length === 0 || name.length > 253) {
    return false;
  }
  const labels = name.split('.');
  return labels.length >= minLabels && labels.every((label) => LABEL.test(label));
}

/** A mailbox `local@domain` (RFC 5321 4.5.3.1: 64-octet local part, 254 in all); no spaces or angle brackets. */
export function isValidAddress(address: string): boolean {
  const at = address.lastIndexOf('@');
  if (at <= 0 || address.length > 254 || at > 64) {
    return false;
  }
  return !/[\s<>]/.test(address.slice(0, at)) && isValidDomainName(address.slice(at + 1), 2);
}

function checkDomainList(errors: Errors, field: string, value: unknown, minLabels: number): void {
  checkStringArray(errors, field, value, MAX_LIST_ENTRIES, (entry, at) => {
    if (!isValidDomainName(entry, minLabels)) {
      const extra = minLabels > 1 ? ' with at least two labels (a whole top-level domain cannot be allowed)' : '';
      push(errors, at, PolicyValidationCode.InvalidDomain, `"${entry}" is not a valid domain name${extra}`);
    }
  });
}

function checkAddressList(errors: Errors, field: string, value: unknown, minDomainLabels: number): void {
  if (value === undefined) {
    return;
  }
  if (!checkObject(errors, field, value, ['domains', 'addresses'])) {
    return;
  }
  checkDomainList(errors, `${field}.domains`, value['domains'], minDomainLabels);
  checkStringArray(errors, `${field}.addresses`, value['addresses'], MAX_LIST_ENTRIES, (entry, at) => {
    if (!isValidAddress(entry.trim())) {
      push(errors, at, PolicyValidationCode.InvalidAddress, `"${entry}" is not a valid email address`);
    }
  });
}

function checkLocks(errors: Errors, locks: unknown, options: typeof EMAIL_SECURITY_OPTIONS): void {
  checkStringArray(errors, 'locks', locks, 1000, (lock, at) => {
    if (!isKnownLockPath(options, lock)) {
      push(errors, at, PolicyValidationCode.UnknownLockPath, `"${lock}" names no policy option`);
    }
  });
}

/**
 * Validates a partial Email Security policy (one level's `settings`), e.g. an admin API request body.
 * Returns every problem found, each naming its field; an empty array means valid.
 */
export function validateEmailSecuritySettings(patch: unknown): PolicyValidationError[] {
  const errors: Errors = [];
  if (!checkObject(errors, '', patch, ['senderChecks', 'allowList', 'blockList', 'blockAction', 'subjectTag'])) {
    return errors;
  }
  const senderChecks = patch['senderChecks'];
  if (senderChecks !== undefined && checkObject(errors, 'senderChecks', senderChecks, ['dmarc', 'spf', 'dkim', 'headerAnomaly', 'trustedArcSealers'])) {
    for (const check of ['dmarc', 'spf', 'dkim', 'headerAnomaly']) {
      const field = `senderChecks.${check}`;
      const value = senderChecks[check];
      if (value !== undefined && checkObject(errors, field, value, ['enabled', 'action'])) {
        checkBoolean(errors, `${field}.enabled`, value['enabled']);
        checkEnum(errors, `${field}.action`, value['action'], check === 'dmarc' ? DMARC_ACTIONS : POLICY_ACTIONS);
      }
    }
    checkDomainList(errors, 'senderChecks.trustedArcSealers', senderChecks['trustedArcSealers'], 2);
  }
  checkAddressList(errors, 'allowList', patch['allowList'], 2);
  checkAddressList(errors, 'blockList', patch['blockList'], 1);
  // Blocking with DELIVER would be an allow list in disguise.
  checkEnum(errors, 'blockAction', patch['blockAction'], ['TAG_SUBJECT', 'QUARANTINE', 'REJECT']);
  const tag = patch['subjectTag'];
  if (tag !== undefined) {
    if (typeof tag !== 'string') {
      push(errors, 'subjectTag', PolicyValidationCode.InvalidType, 'must be a string');
    } else if (tag.trim() === '') {
      push(errors, 'subjectTag', PolicyValidationCode.Required, 'must not be empty');
    } else if (tag.length > MAX_SUBJECT_TAG_LENGTH) {
      push(errors, 'subjectTag', PolicyValidationCode.TooLong, `must be at most ${MAX_SUBJECT_TAG_LENGTH} characters`);
      // A CR or LF in a header value would let the tag inject header fields (RFC 5322 2.2: no CR/LF in a field body).
    } else if (/[\r\n\0]/.test(tag)) {
      push(errors, 'subjectTag', PolicyValidationCode.InvalidValue, 'must not contain line breaks or NUL');
    }
  }
  return errors;
}

function checkTargets(errors: Errors, field: string, value: unknown): void {
  if (value === undefined) {
    return;
  }
  if (!Array.isArray(value) || value.length === 0) {
    push(errors, field, PolicyValidationCode.InvalidValue, `must be a non-empty array of ${CONTENT_TARGETS.join(', ')}`);
    return;
  }
  value.forEach((entry, index) => checkEnum(errors, `${field}[${index}]`, entry ?? null, CONTENT_TARGETS));
}

function checkRule(errors: Errors, field: string, rule: unknown): string | null {
  if (!isPlainObject(rule)) {
    push(errors, field, PolicyValidationCode.InvalidType, 'must be an object');
    return null;
  }
  const common = ['id', 'name', 'enabled', 'action', 'directions', 'kind'];
  const kind = rule['kind'];
  if (typeof kind !== 'string' || !(CONTENT_RULE_KINDS as readonly string[]).includes(kind)) {
    push(errors, `${field}.kind`, PolicyValidationCode.InvalidValue, `must be one of ${CONTENT_RULE_KINDS.join(', ')}`);
    return null;
  }
  const specific: Record<string, string[]> = {
    keyword: ['keywords', 'targets'],
    regex: ['pattern', 'caseInsensitive', 'targets'],
    'card-number': ['targets'],
    'attachment-type': ['fileTypes', 'match'],
  };
  checkObject(errors, field, rule, [...common, ...specific[kind]]);

  const id = rule['id'];
  if (typeof id !== 'string' || !RULE_ID_PATTERN.test(id)) {
    push(errors, `${field}.id`, PolicyValidationCode.InvalidValue, 'must be 1–64 letters, digits, "_" or "-", starting with a letter or digit');
  }
  if (rule['name'] !== undefined && (typeof rule['name'] !== 'string' || rule['name'].length > 200)) {
    push(errors, `${field}.name`, PolicyValidationCode.InvalidValue, 'must be a string of at most 200 characters');
  }
  if (rule['enabled'] === undefined) {
    push(errors, `${field}.enabled`, PolicyValidationCode.Required, 'is required');
  }
  checkBoolean(errors, `${field}.enabled`, rule['enabled']);
  if (rule['action'] === undefined) {
    push(errors, `${field}.action`, PolicyValidationCode.Required, 'is required');
  }
  checkEnum(errors, `${field}.action`, rule['action'], POLICY_ACTIONS);
  const directions = rule['directions'];
  if (!Array.isArray(directions) || directions.length === 0) {
    push(errors, `${field}.directions`, PolicyValidationCode.InvalidValue, `must be a non-empty array of ${POLICY_DIRECTIONS.join(', ')}`);
  } else {
    directions.forEach((entry, index) => checkEnum(errors, `${field}.directions[${index}]`, entry ?? null, POLICY_DIRECTIONS));
  }

  switch (kind) {
    case 'keyword': {
      const keywords = rule['keywords'];
      if (!Array.isArray(keywords) || keywords.length === 0) {
        push(errors, `${field}.keywords`, PolicyValidationCode.Required, 'must be a non-empty array of strings');
      } else {
        checkStringArray(errors, `${field}.keywords`, keywords, MAX_KEYWORDS_PER_RULE, (keyword, at) => {
          if (keyword.trim() === '') {
            push(errors, at, PolicyValidationCode.Required, 'must not be empty');
          } else if (keyword.length > MAX_KEYWORD_LENGTH) {
            push(errors, at, PolicyValidationCode.TooLong, `must be at most ${MAX_KEYWORD_LENGTH} characters`);
          }
        });
      }
      checkTargets(errors, `${field}.targets`, rule['targets']);
      break;
    }
    case 'regex': {
      const pattern = rule['pattern'];
      checkBoolean(errors, `${field}.caseInsensitive`, rule['caseInsensitive']);
      if (typeof pattern !== 'string' || pattern === '') {
        push(errors, `${field}.pattern`, PolicyValidationCode.Required, 'must be a non-empty string');
      } else {
        const compiled = compileSafeRegex(pattern, rule['caseInsensitive'] === true);
        if (!compiled.ok) {
          push(errors, `${field}.pattern`, PolicyValidationCode.InvalidRegex, compiled.error);
        } else if (compiled.regex.test('')) {
          // A pattern that matches the empty string matches every message.
          push(errors, `${field}.pattern`, PolicyValidationCode.RegexMatchesEmpty, 'matches the empty string, so it would match every message');
        }
      }
      checkTargets(errors, `${field}.targets`, rule['targets']);
      break;
    }
    case 'card-number':
      checkTargets(errors, `${field}.targets`, rule['targets']);
      break;
    case 'attachment-type': {
      const fileTypes = rule['fileTypes'];
      if (!Array.isArray(fileTypes) || fileTypes.length === 0) {
        push(errors, `${field}.fileTypes`, PolicyValidationCode.Required, `must be a non-empty array of ${ATTACHMENT_FILE_TYPES.join(', ')}`);
      } else {
        fileTypes.forEach((entry, index) => checkEnum(errors, `${field}.fileTypes[${index}]`, entry ?? null, ATTACHMENT_FILE_TYPES));
      }
      checkEnum(errors, `${field}.match`, rule['match'], ['name', 'content', 'either']);
      break;
    }
  }
  return typeof id === 'string' ? id : null;
}

/** Validates a partial Data Control policy; every regular expression is compiled with RE2 here, so a stored rule always compiles. */
export function validateDataControlSettings(patch: unknown): PolicyValidationError[] {
  const errors: Errors = [];
  if (!checkObject(errors, '', patch, ['enabled', 'rules'])) {
    return errors;
  }
  checkBoolean(errors, 'enabled', patch['enabled']);
  const rules = patch['rules'];
  if (rules !== undefined) {
    if (!Array.isArray(rules)) {
      push(errors, 'rules', PolicyValidationCode.InvalidType, 'must be an array of rules');
    } else {
      if (rules.length > MAX_RULES) {
        push(errors, 'rules', PolicyValidationCode.TooLong, `must have at most ${MAX_RULES} rules`);
      }
      const seen = new Set<string>();
      rules.forEach((rule, index) => {
        const id = checkRule(errors, `rules[${index}]`, rule);
        if (id !== null) {
          if (seen.has(id)) {
            push(errors, `rules[${index}].id`, PolicyValidationCode.DuplicateRuleId, `"${id}" is used by an earlier rule`);
          }
          seen.add(id);
        }
      });
    }
  }
  return errors;
}

/** Validates the lock paths of an Email Security policy (`Policy.locks`). */
export function validateEmailSecurityLocks(locks: unknown): PolicyValidationError[] {
  const errors: Errors = [];
  checkLocks(errors, locks, EMAIL_SECURITY_OPTIONS);
  return errors;
}

/** Validates the lock paths of a Data Control policy: `enabled`, `rules` or `rules.<id>`. */
export function validateDataControlLocks(locks: unknown): PolicyValidationError[] {
  const errors: Errors = [];
  checkLocks(errors, locks, DATA_CONTROL_OPTIONS);
  return errors;
}

/** Type guards for callers that validated first. */
export const isEmailSecuritySettingsPatch = (patch: unknown): patch is EmailSecuritySettingsPatch =>
  validateEmailSecuritySettings(patch).length === 0;

export const isDataControlSettingsPatch = (patch: unknown): patch is DataControlSettingsPatch =>
  validateDataControlSettings(patch).length === 0;

/** Why a settings field was refused; stable API names (the admin API returns them in problem+json bodies). */
export enum PolicyValidationCode {
  UnknownField = 'UNKNOWN_FIELD',
  InvalidType = 'INVALID_TYPE',
  InvalidValue = 'INVALID_VALUE',
  Required = 'REQUIRED',
  TooLong = 'TOO_LONG',
  InvalidDomain = 'INVALID_DOMAIN',
  InvalidAddress = 'INVALID_ADDRESS',
  InvalidRegex = 'INVALID_REGEX',
  RegexMatchesEmpty = 'REGEX_MATCHES_EMPTY',
  DuplicateRuleId = 'DUPLICATE_RULE_ID',
  UnknownLockPath = 'UNKNOWN_LOCK_PATH',
}

export interface PolicyValidationError {
  /** Path of the offending field in the submitted object, e.g. `senderChecks.dkim.action`, `rules[2].pattern`, `locks[0]`. */
  field: string;
  code: PolicyValidationCode;
  message: string;
}

/** Thrown when settings that must be valid are not (e.g. a stored policy row read back for resolution). */
export class PolicyValidationException extends Error {
  constructor(
    readonly errors: PolicyValidationError[],
    context?: string,
  ) {
    super(
      `${context ? `${context}: ` : ''}invalid policy settings: ` +
        errors.map((error) => `${error.field}: ${error.message}`).join('; '),
    );
    this.name = 'PolicyValidationException';
  }
}

export enum PolicyEvaluationCode {
  MissingRequestedAction = 'MISSING_REQUESTED_ACTION',
  NoRecipients = 'NO_RECIPIENTS',
  InvalidInput = 'INVALID_INPUT',
}

/** Thrown by evaluatePolicy for input it cannot decide on; never for a message it does not like. */
export class PolicyEvaluationException extends Error {
  constructor(
    readonly code: PolicyEvaluationCode,
    message: string,
  ) {
    super(message);
    this.name = 'PolicyEvaluationException';
  }
}

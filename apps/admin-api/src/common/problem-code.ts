/**
 * Every `code` the admin API answers in a problem+json body (stable: integrators script against them). Rule codes
 * of libs/accounts, libs/mode-migrations and libs/policy are passed through with their own names.
 */
export enum ProblemCode {
  Unauthenticated = 'UNAUTHENTICATED',
  ReadOnlyKey = 'READ_ONLY_KEY',
  RoleNotAllowed = 'ROLE_NOT_ALLOWED',
  NotFound = 'NOT_FOUND',
  RateLimited = 'RATE_LIMITED',
  ValidationFailed = 'VALIDATION_FAILED',
  InvalidCursor = 'INVALID_CURSOR',
  PolicyInvalid = 'POLICY_INVALID',
  OptionLocked = 'OPTION_LOCKED',
  /** A retention window above the partner's ceiling. */
  RetentionAboveCeiling = 'RETENTION_ABOVE_CEILING',
  QuarantineNotEnforced = 'QUARANTINE_NOT_ENFORCED',
  QuarantineItemDeleted = 'QUARANTINE_ITEM_DELETED',
  QuarantineItemReleased = 'QUARANTINE_ITEM_RELEASED',
  /** The item is past the tenant's quarantine window (410): the retention expires it; it can be deleted, not released. */
  QuarantineItemExpired = 'QUARANTINE_ITEM_EXPIRED',
  QuarantineNoSender = 'QUARANTINE_NO_SENDER',
  QuickTestNotApplicable = 'QUICK_TEST_NOT_APPLICABLE',
  SecretsKeyNotConfigured = 'SECRETS_KEY_NOT_CONFIGURED',
  RateLimiterUnavailable = 'RATE_LIMITER_UNAVAILABLE',
  MimecastInvalidSettings = 'MIMECAST_INVALID_SETTINGS',
  Microsoft365NotConfigured = 'MICROSOFT365_NOT_CONFIGURED',
  Microsoft365NotConnected = 'MICROSOFT365_NOT_CONNECTED',
  Microsoft365TenantConnectedElsewhere = 'MICROSOFT365_TENANT_CONNECTED_ELSEWHERE',
  InvalidConsentState = 'INVALID_CONSENT_STATE',
  ConsentRefused = 'CONSENT_REFUSED',
  CsvInvalid = 'CSV_INVALID',
  RemediationPreviewChanged = 'REMEDIATION_PREVIEW_CHANGED',
  RemediationNoMailboxes = 'REMEDIATION_NO_MAILBOXES',
  RemediationRecipientNotInMessage = 'REMEDIATION_RECIPIENT_NOT_IN_MESSAGE',
  RemediationTooManyMessages = 'REMEDIATION_TOO_MANY_MESSAGES',
  RemediationNotRestorable = 'REMEDIATION_NOT_RESTORABLE',
  RemediationNotFinished = 'REMEDIATION_NOT_FINISHED',
  ExportInvalidSettings = 'EXPORT_INVALID_SETTINGS',
  Conflict = 'CONFLICT',
  /** The mailflow connector cannot be removed while a domain takes mail through it. */
  ConnectorInUse = 'CONNECTOR_IN_USE',
  /** A DKIM key for a domain the account has not verified (issue 16). */
  DomainNotVerified = 'DOMAIN_NOT_VERIFIED',
  Internal = 'INTERNAL',
  // Sign-in for people (issue 18).
  InvalidCredentials = 'INVALID_CREDENTIALS',
  TotpRequired = 'TOTP_REQUIRED',
  TotpInvalid = 'TOTP_INVALID',
  CsrfTokenInvalid = 'CSRF_TOKEN_INVALID',
  /** A route for a signed-in person (its own TOTP, its own sessions) called with an API key. */
  UserSessionRequired = 'USER_SESSION_REQUIRED',
  OidcNotConfigured = 'OIDC_NOT_CONFIGURED',
  OidcSignInFailed = 'OIDC_SIGN_IN_FAILED',
  /** The provider signed the person in, but no enabled Mailwarden user matches (no self-provisioning). */
  OidcUserUnknown = 'OIDC_USER_UNKNOWN',
  InvalidReturnTo = 'INVALID_RETURN_TO',
}

/** One field-level problem (validation errors). */
export interface ProblemFieldError {
  field: string;
  code: string;
  message: string;
}

/** A refusal the admin API answers as problem+json; thrown by services, mapped by ProblemFilter. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly errors?: ProblemFieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.name = 'ApiProblem';
  }

  static notFound(what: string, id: string): ApiProblem {
    return new ApiProblem(404, ProblemCode.NotFound, `${what} ${id} not found`);
  }
}

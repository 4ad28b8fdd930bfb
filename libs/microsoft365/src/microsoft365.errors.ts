/**
 * Microsoft Graph error body: `{"error":{"code","message","innerError":{"request-id","date","client-request-id"}}}`.
 * Graph answers `innerError`; Learn's error table spells it `innererror` (concepts/errors.md): both are read.
 */
export interface GraphErrorBody {
  error?: {
    code?: string;
    message?: string;
    innerError?: GraphInnerError;
    innererror?: GraphInnerError;
  };
}

interface GraphInnerError {
  'request-id'?: string;
  'client-request-id'?: string;
  date?: string;
  code?: string;
}

/** Codes Graph and Exchange use for "no such message / mailbox" (itemNotFound, ErrorItemNotFound, ...). */
const NOT_FOUND_CODES = new Set(['itemnotfound', 'erroritemnotfound', 'resourcenotfound', 'errorinvaliduser', 'mailboxnotenabledforrestapi', 'request_resourcenotfound']);
const DENIED_CODES = new Set(['accessdenied', 'erroraccessdenied', 'authorization_requestdenied', 'forbidden']);

/** A failed Graph call, typed from Microsoft's error JSON (never carries a token or a secret). */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null = null,
    /** How long Graph asked us to wait (429/503 Retry-After), in ms. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'GraphError';
  }

  static fromResponse(status: number, body: unknown, retryAfterMs: number | null = null): GraphError {
    const error = (body as GraphErrorBody | null)?.error;
    const inner = error?.innerError ?? error?.innererror;
    const code = typeof error?.code === 'string' && error.code ? error.code : `http-${status}`;
    const message = typeof error?.message === 'string' && error.message ? error.message : `Microsoft Graph answered HTTP ${status}`;
    return new GraphError(status, code, message, inner?.['request-id'] ?? null, retryAfterMs);
  }

  get isNotFound(): boolean {
    return this.status === 404 || NOT_FOUND_CODES.has(this.code.toLowerCase());
  }

  /** The app lacks an application permission (or the tenant admin has not consented to it). */
  get isAccessDenied(): boolean {
    return this.status === 403 || DENIED_CODES.has(this.code.toLowerCase());
  }

  get isThrottled(): boolean {
    return this.status === 429;
  }

  toJSON(): { status: number; code: string; message: string; requestId: string | null } {
    return { status: this.status, code: this.code, message: this.message, requestId: this.requestId };
  }
}

/**
 * The identity platform refused a token (400/401 with `error`, `error_description`, `error_codes`), e.g.
 * `invalid_client` for a wrong secret or `unauthorized_client` when the tenant has not consented.
 */
export class TokenError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly errorCodes: number[] = [],
  ) {
    super(`${error}: ${description}`);
    this.name = 'TokenError';
  }

  toJSON(): { status: number; error: string; description: string; errorCodes: number[] } {
    return { status: this.status, error: this.error, description: this.description, errorCodes: this.errorCodes };
  }
}

/** The signed `state` of an admin-consent redirect is missing, forged, for another purpose, or expired. */
export class ConsentStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConsentStateError';
  }
}

/**
 * A failed Exchange Online cmdlet (InvokeCommand). The body is `{"error":{"code","message","details":[{"message":
 * "<Type>|<Code>|<Message>"}]}}` (WIRE.md §3). Which of the first two fields is the .NET exception type is read from
 * their shape (a dotted name ending in `Exception`), so both orders seen in the wild are understood.
 */
export class ExchangeOnlineError extends Error {
  constructor(
    readonly status: number,
    readonly cmdlet: string,
    /** The .NET exception type, e.g. `Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException`. */
    readonly type: string,
    readonly code: string,
    message: string,
    readonly retryAfterMs: number | null = null,
    /** `@adminapi.warnings` answered before the failure (a later page failed). */
    readonly warnings: string[] = [],
  ) {
    super(message);
    this.name = 'ExchangeOnlineError';
  }

  static fromResponse(status: number, cmdlet: string, body: unknown, retryAfterMs: number | null = null): ExchangeOnlineError {
    const error = (body as { error?: { code?: unknown; message?: unknown; details?: Array<{ message?: unknown }> } } | null)?.error;
    const detail = error?.details?.map((item) => item?.message).find((message): message is string => typeof message === 'string' && message.includes('|'));
    if (detail) {
      const [first, second, ...rest] = detail.split('|');
      const looksLikeType = (part: string) => /^[\w.]+\.\w*Exception$/.test(part) || /^[A-Z]\w*(\.[A-Z]\w*)+$/.test(part);
      const [type, code] = !looksLikeType(first!) && looksLikeType(second!) ? [second!, first!] : [first!, second!];
      return new ExchangeOnlineError(status, cmdlet, type, code, rest.join('|') || (typeof error?.message === 'string' ? error.message : ''), retryAfterMs);
    }
    const code = typeof error?.code === 'string' && error.code ? error.code : `http-${status}`;
    const message = typeof error?.message === 'string' && error.message ? error.message : `Exchange Online answered HTTP ${status}`;
    return new ExchangeOnlineError(status, cmdlet, code, code, message, retryAfterMs);
  }

  /** The named object does not exist (ManagementObjectNotFoundException, or HTTP 404). */
  get isNotFound(): boolean {
    return this.status === 404 || /ObjectNotFound/i.test(this.type);
  }

  /** An object of that name already exists (ADObjectAlreadyExistsException, RuleNameAlreadyExistException ...). */
  get isAlreadyExists(): boolean {
    return /AlreadyExist/i.test(this.type) || /already exists/i.test(this.message);
  }

  /**
   * The app may not run the cmdlet: no `Exchange.ManageAsApp` in the token (401/403), or no Exchange Administrator role
   * on its service principal (RBAC hides the cmdlet: CommandNotFoundException).
   */
  get isAccessDenied(): boolean {
    return this.status === 401 || this.status === 403 || /CommandNotFound/i.test(this.type);
  }

  get isThrottled(): boolean {
    return this.status === 429;
  }

  toJSON(): { status: number; cmdlet: string; type: string; code: string; message: string } {
    return { status: this.status, cmdlet: this.cmdlet, type: this.type, code: this.code, message: this.message };
  }
}

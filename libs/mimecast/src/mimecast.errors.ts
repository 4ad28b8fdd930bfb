export enum MimecastErrorCode {
  /** Credentials refused (OAuth token denied, 401/403, or a 401 again after a token refresh). */
  Unauthorized = 'unauthorized',
  /** 429 still answered after every retry, or a Retry-After longer than we are willing to wait. */
  RateLimited = 'rate-limited',
  /** 5xx or a network failure after every retry. */
  Unavailable = 'unavailable',
  /** HTTP 200 with a non-empty `fail[]`. */
  ApiFailure = 'api-failure',
  /** Any other status, or a body that is not the documented envelope. */
  BadResponse = 'bad-response',
}

/** A failed Mimecast call; `retryable` says whether the next poll may succeed without a change of settings. */
export class MimecastError extends Error {
  constructor(
    readonly code: MimecastErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'MimecastError';
  }
}

/** Codes of {@link SenderCheckInputError}: what was wrong with the input. */
export enum SenderCheckInputErrorCode {
  InvalidInput = 'SENDER_CHECK_INVALID_INPUT',
}

/** The sender checks were called with input they cannot work on (a programming error, not a verdict). */
export class SenderCheckInputError extends Error {
  readonly code = SenderCheckInputErrorCode.InvalidInput;

  constructor(message: string) {
    super(`sender checks: ${message}`);
    this.name = 'SenderCheckInputError';
  }
}

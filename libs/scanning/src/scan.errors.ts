/** The message (or its content) is gone: retrying cannot help (the worker throws UnrecoverableError). */
export class MessageNotFoundError extends Error {
  constructor(
    readonly messageId: string,
    detail = 'not found',
  ) {
    super(`message ${messageId}: ${detail}`);
    this.name = 'MessageNotFoundError';
  }
}

/** A dependency did not answer (DNS temperror): the job is retried with back-off. */
export class TransientScanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransientScanError';
  }
}

/** An SMTP reply for a refused command: smtp-server sends `responseCode` and the message as the reply text. */
export class SmtpReplyError extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'SmtpReplyError';
  }
}

export const smtpError = (responseCode: number, message: string): SmtpReplyError => new SmtpReplyError(responseCode, message);

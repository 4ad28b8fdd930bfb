import { smtpError, type SmtpReplyError } from './smtp-replies';

export interface ClientLimitOptions {
  maxConnectionsPerClient: number;
  maxMessagesPerMinutePerClient: number;
  now?: () => number;
}

/**
 * Per-client-address limits of an SMTP listener: concurrent connections (421 at connect, the client closes and
 * retries later) and messages per minute (451 at MAIL FROM, a temporary refusal). Counts live in this process:
 * each instance limits what reaches it, which is what protects it.
 */
export class ClientLimits {
  private readonly connections = new Map<string, number>();
  private readonly messages = new Map<string, { windowStart: number; count: number }>();
  private readonly now: () => number;

  constructor(private readonly options: ClientLimitOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Call at connect; null when the connection may proceed (then call `release` when it closes). */
  acquireConnection(address: string): SmtpReplyError | null {
    const open = this.connections.get(address) ?? 0;
    if (open >= this.options.maxConnectionsPerClient) {
      return smtpError(421, '4.7.0', `Too many connections from ${address}, try again later`);
    }
    this.connections.set(address, open + 1);
    return null;
  }

  releaseConnection(address: string): void {
    const open = (this.connections.get(address) ?? 1) - 1;
    if (open <= 0) {
      this.connections.delete(address);
    } else {
      this.connections.set(address, open);
    }
  }

  /** Call at MAIL FROM; null when the client may send one more message this minute. */
  countMessage(address: string): SmtpReplyError | null {
    const now = this.now();
    const entry = this.messages.get(address);
    if (!entry || now - entry.windowStart >= 60_000) {
      this.messages.set(address, { windowStart: now, count: 1 });
      return null;
    }
    if (entry.count >= this.options.maxMessagesPerMinutePerClient) {
      return smtpError(451, '4.7.1', `Too many messages from ${address}, slow down and try again later`);
    }
    entry.count++;
    return null;
  }
}

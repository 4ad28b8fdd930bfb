import type { GraphClientOptions } from './graph.client';
import type { MailflowQuickTestOptions } from './mailflow-quick-test.service';
import type { Microsoft365AppSettings } from './microsoft365.settings';

export const MICROSOFT365_OPTIONS = Symbol('MICROSOFT365_OPTIONS');

export interface Microsoft365ModuleOptions {
  /** Mailwarden's app registration; null: no app configured (consent, check, sync and clawback answer "not configured"). */
  app: Microsoft365AppSettings | null;
  /** base64 32-byte SECRETS_KEY: signs the admin-consent state. */
  secretsKey: string;
  /** Minutes between scheduled directory syncs of each connected account (default 360). */
  directorySyncMinutes?: number;
  /** How long a worker holds a remediation without renewing (renewed every third of it; default 60 s). */
  remediationLeaseMs?: number;
  /** Mailboxes worked on at once by one remediation (each mailbox still sees at most 4 requests; default 16). */
  remediationConcurrency?: number;
  graph?: Omit<GraphClientOptions, 'limiter' | 'signal'>;
  /** Consent links stay valid this long (default 1 h). */
  consentTtlMs?: number;
  /**
   * After the redirect, a token for the named tenant proves it really consented (the redirect's `tenant` is only a
   * query parameter). Consent can take a moment to reach the token service: tries this many more times, 2 s apart
   * (default 3).
   */
  consentTokenRetries?: number;
  /** The mailflow quick test through Exchange Online (issue 16); the host name is the scanner's SMTP_HOSTNAME. */
  mailflowQuickTest?: MailflowQuickTestOptions;
}

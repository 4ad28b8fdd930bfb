import type { MimecastClientOptions } from './mimecast.client';

export const MIMECAST_OPTIONS = Symbol('MIMECAST_OPTIONS');

export interface MimecastModuleOptions {
  /** 32-byte AES-256-GCM key, base64 (the app passes SECRETS_KEY). */
  secretsKey: string;
  /** Records per page asked of Mimecast (default 100). */
  pageSize?: number;
  /** How far back the first poll of a connection reaches (default 24 h). */
  initialLookbackMs?: number;
  /** Newest minutes left to the next window, as Mimecast indexes logs late (default 2 min). */
  settleMs?: number;
  /** Pages per log kind in one poll; the cursor keeps the rest for the next poll (default 100). */
  maxPagesPerPoll?: number;
  /** How long a poll holds its connection against concurrent polls (default 15 min). */
  leaseMs?: number;
  /** Accept http:// base URLs (local fakes in tests); otherwise credentials only ever travel over https. */
  allowHttpBaseUrl?: boolean;
  client?: Omit<MimecastClientOptions, 'now' | 'tokenCache'>;
  now?: () => Date;
}

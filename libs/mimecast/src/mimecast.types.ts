/**
 * Mimecast TTP log shapes as the API returns them (API 2.0 and API 1.0 share them), checked against the
 * samples in shared/conformance/samples/mimecast (Elastic's Mimecast integration test data).
 */

/** The three TTP log endpoints Mailwarden polls. */
export enum MimecastLogKind {
  Attachment = 'attachment',
  Impersonation = 'impersonation',
  Url = 'url',
}

export const MIMECAST_LOG_KINDS: readonly MimecastLogKind[] = [
  MimecastLogKind.Attachment,
  MimecastLogKind.Impersonation,
  MimecastLogKind.Url,
];

/** POST path of each log kind; the same on API 1.0 regional hosts and on the API 2.0 gateway. */
export const MIMECAST_LOG_PATHS: Record<MimecastLogKind, string> = {
  [MimecastLogKind.Attachment]: '/api/ttp/attachment/get-logs',
  [MimecastLogKind.Impersonation]: '/api/ttp/impersonation/get-logs',
  [MimecastLogKind.Url]: '/api/ttp/url/get-logs',
};

/** The array inside `data[0]` that carries each kind's records. */
export const MIMECAST_LOG_FIELDS: Record<MimecastLogKind, 'attachmentLogs' | 'impersonationLogs' | 'clickLogs'> = {
  [MimecastLogKind.Attachment]: 'attachmentLogs',
  [MimecastLogKind.Impersonation]: 'impersonationLogs',
  [MimecastLogKind.Url]: 'clickLogs',
};

export interface AttachmentLog {
  senderAddress: string;
  recipientAddress: string;
  fileName?: string;
  fileType?: string;
  /** `safe`, `malicious`, `unknown`, … */
  result: string;
  actionTriggered?: string;
  /** e.g. `2024-11-17T03:23:20+0000` */
  date: string;
  details?: string;
  route?: string;
  messageId?: string;
  subject?: string;
  fileHash?: string;
  definition?: string;
}

export interface ImpersonationResult {
  impersonationDomainSource?: string;
  similarDomain?: string;
  stringSimilarToDomain?: string;
  checkerResult?: string;
}

export interface ImpersonationLog {
  id?: string;
  senderAddress: string;
  recipientAddress: string;
  subject?: string;
  definition?: string;
  hits?: number;
  identifiers?: string[];
  /** `none`, `hold`, `bounce`, … (what Mimecast did, not whether it matched). */
  action: string;
  taggedExternal?: boolean;
  taggedMalicious?: boolean;
  senderIpAddress?: string;
  eventTime: string;
  impersonationResults?: ImpersonationResult[];
  messageId?: string;
}

export interface UrlClickLog {
  userEmailAddress: string;
  fromUserEmailAddress: string;
  url: string;
  ttpDefinition?: string;
  /** Present on some tenants' logs: the policy or rejection reason that raised the entry. */
  reason?: string;
  subject?: string;
  action?: string;
  /** `clean`, `malicious`, `suspicious`, … */
  scanResult: string;
  category?: string;
  sendingIp?: string;
  date: string;
  route?: string;
  /** `User Click`, `Entry Scan`, … */
  creationMethod?: string;
  messageId?: string;
  emailPartsDescription?: string[];
  tagMap?: Record<string, unknown>;
}

export type MimecastLogRecord = AttachmentLog | ImpersonationLog | UrlClickLog;

export interface MimecastFailError {
  code?: string;
  message?: string;
  retryable?: boolean;
}

/** The response envelope of every get-logs call. */
export interface MimecastLogsResponse {
  meta?: { status?: number; pagination?: { pageSize?: number; next?: string; totalCount?: number } };
  data?: Array<Record<string, unknown>>;
  fail?: Array<{ key?: unknown; errors?: MimecastFailError[] }>;
}

/** Request body of every get-logs call. */
export interface MimecastLogsRequest {
  meta: { pagination: { pageSize: number; pageToken?: string } };
  data: Array<{ from: string; to: string; oldestFirst: boolean; route?: string; scanResult?: string }>;
}

export interface MimecastV2Credentials {
  clientId: string;
  clientSecret: string;
}

export interface MimecastV1Credentials {
  appId: string;
  appKey: string;
  accessKey: string;
  /** Base64, as Mimecast hands it out. */
  secretKey: string;
}

export type MimecastConnectionSettings =
  | { apiVersion: 'V2'; baseUrl: string; credentials: MimecastV2Credentials }
  | { apiVersion: 'V1'; baseUrl: string; credentials: MimecastV1Credentials };

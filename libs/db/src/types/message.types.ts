import type { DeliveryState, MessageDirection, MessageSource, PolicyAction, Prisma } from '../generated/prisma/client';

/**
 * The inputs of the message path's writes, shared by the message and delivery repositories and the SQL that
 * builds their statements (`message-writes.sql.ts`); kept here so none of those files imports another for a type.
 */

export interface IncomingMessage {
  accountId: string;
  source: MessageSource;
  direction: MessageDirection;
  envelopeFrom: string;
  envelopeTo: string[];
  headerFrom?: string | null;
  subject?: string | null;
  messageIdHeader?: string | null;
  clientIp?: string | null;
  helo?: string | null;
  dedupKey?: string | null;
  metadata?: Prisma.InputJsonValue;
  raw: Buffer;
  /**
   * The storing process will scan this copy itself and counts that first attempt with the store (no statement of its
   * own): written as "scan_attempts" 1, which the "message_scan" row starts from (migration 20261210100000).
   */
  scanAttemptCounted?: boolean;
}

/** A received copy after its commit: its message (for a duplicate, the one stored before) and whether it was one. */
export interface StoredIncoming {
  message: { id: string };
  duplicate: boolean;
}

export interface VerdictInput {
  recipient: string;
  checks: Prisma.InputJsonValue;
  failedCheck?: string | null;
  decidedAction: PolicyAction;
  appliedAction?: PolicyAction | null;
  enforced: boolean;
  reasons: Prisma.InputJsonValue;
  skippedReason?: string | null;
  /** Why the message is quarantined (shown in the quarantine list); defaults to the failed check. */
  quarantineReason?: string | null;
}

/**
 * The verdicts of one scanned message, as the scan hands them to the verdict write (`MessageRepository.saveVerdicts`,
 * `saveVerdictsMany`, `VerdictCommitter.save`).
 */
export interface VerdictWrite {
  message: { id: string; accountId: string };
  verdicts: readonly VerdictInput[];
  status?: 'SCANNED' | 'SKIPPED';
  quarantineExpiresAt?: Date | null;
}

/** A message the gateway front has already evaluated, with everything decided for it (`DeliveryRepository.storeProcessed`). */
export interface ProcessedWrite {
  input: IncomingMessage;
  verdicts: readonly VerdictInput[];
  status: 'SCANNED' | 'SKIPPED';
  copies: readonly RecipientDeliveryInput[];
  quarantineExpiresAt?: Date | null;
  /**
   * Claims the QUEUED copies for this long as they are stored (the front delivers them itself right after the commit:
   * `DeliveryRepository.claimCopies` without its statement). Null or absent: stored unclaimed, for a delivery job.
   */
  claimLeaseMs?: number | null;
}

/** What the store of a processed message returns: its id and the time it was stored (`received_at`). */
export interface StoredProcessed {
  id: string;
  receivedAt: Date;
}

export interface RecipientDeliveryInput {
  recipient: string;
  action: PolicyAction;
  state: DeliveryState;
  subjectTag?: string | null;
}

/**
 * A raw store's part of a writer's statement (`RawMessageStore.insertSql`): the statement storing the contents
 * (yielding `"id"` per stored content) and the id of each content, in the order given.
 */
export interface RawInsert {
  sql: Prisma.Sql;
  ids: string[];
}

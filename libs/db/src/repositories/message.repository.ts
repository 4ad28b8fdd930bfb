import { Inject, Injectable } from '@nestjs/common';
import type {
  Account,
  Domain,
  Message,
  MessageDirection,
  MessageSource,
  PolicyAction,
  Prisma,
  Verdict,
} from '../generated/prisma/client';
import { RAW_MESSAGE_STORE } from '../db.constants';
import { PrismaService } from '../prisma.service';
import type { RawMessageStore } from '../raw-message-store';

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

/** The Message row of a message as received (addresses lower-cased); the caller adds scan and delivery state. */
export function incomingMessageData(input: IncomingMessage, rawMessageId: string): Prisma.MessageUncheckedCreateInput {
  return {
    accountId: input.accountId,
    source: input.source,
    direction: input.direction,
    envelopeFrom: input.envelopeFrom.toLowerCase(),
    envelopeTo: input.envelopeTo.map((address) => address.toLowerCase()),
    headerFrom: input.headerFrom?.toLowerCase() ?? null,
    subject: input.subject ?? null,
    messageIdHeader: input.messageIdHeader ?? null,
    size: input.raw.byteLength,
    clientIp: input.clientIp ?? null,
    helo: input.helo ?? null,
    dedupKey: input.dedupKey ?? null,
    metadata: input.metadata ?? {},
    rawMessageId,
  };
}

/**
 * Writes a message's verdicts, and a quarantine item for each QUARANTINE decision, in the caller's transaction
 * (batched: two statements whatever the number of recipients). Shared by the scan worker and the gateway front.
 */
export async function writeVerdicts(
  tx: Prisma.TransactionClient,
  message: Pick<Message, 'id' | 'accountId'>,
  verdicts: readonly VerdictInput[],
  quarantineExpiresAt: Date | null,
): Promise<Verdict[]> {
  const rows = await tx.verdict.createManyAndReturn({
    data: verdicts.map((verdict) => ({
      messageId: message.id,
      recipient: verdict.recipient.toLowerCase(),
      checks: verdict.checks,
      failedCheck: verdict.failedCheck ?? null,
      decidedAction: verdict.decidedAction,
      appliedAction: verdict.appliedAction ?? null,
      enforced: verdict.enforced,
      reasons: verdict.reasons,
      skippedReason: verdict.skippedReason ?? null,
    })),
  });
  const quarantined = rows.filter((row) => row.decidedAction === 'QUARANTINE');
  if (quarantined.length > 0) {
    const reasonOf = new Map(verdicts.map((verdict) => [verdict.recipient.toLowerCase(), verdict.quarantineReason]));
    await tx.quarantineItem.createMany({
      data: quarantined.map((row) => ({
        accountId: message.accountId,
        messageId: message.id,
        verdictId: row.id,
        recipient: row.recipient,
        reason: reasonOf.get(row.recipient) ?? row.failedCheck ?? 'policy',
        enforced: row.enforced,
        expiresAt: quarantineExpiresAt,
      })),
    });
  }
  return rows;
}

export type MessageForScan = Message & { account: Account & { domains: Domain[] } };

@Injectable()
export class MessageRepository {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(RAW_MESSAGE_STORE) private readonly rawStore: RawMessageStore,
  ) {}

  /**
   * Stores the raw bytes and the message row in one transaction. Resolves only after the commit, so a
   * caller may acknowledge the message (SMTP 250) once this returns. A message whose dedupKey was
   * already stored for the account is not stored again: the existing row is returned with `duplicate`.
   */
  async storeIncoming(input: IncomingMessage): Promise<{ message: Message; duplicate: boolean }> {
    if (input.dedupKey) {
      const existing = await this.prisma.message.findUnique({
        where: { accountId_dedupKey: { accountId: input.accountId, dedupKey: input.dedupKey } },
      });
      if (existing) {
        return { message: existing, duplicate: true };
      }
    }
    try {
      const message = await this.prisma.$transaction(async (tx) => {
        const rawMessageId = await this.rawStore.put(tx, input.raw);
        return tx.message.create({ data: incomingMessageData(input, rawMessageId) });
      });
      return { message, duplicate: false };
    } catch (error) {
      // P2002: a concurrent copy with the same dedupKey committed first.
      if (input.dedupKey && (error as { code?: string }).code === 'P2002') {
        const existing = await this.prisma.message.findUniqueOrThrow({
          where: { accountId_dedupKey: { accountId: input.accountId, dedupKey: input.dedupKey } },
        });
        return { message: existing, duplicate: true };
      }
      throw error;
    }
  }

  findForScan(id: string): Promise<MessageForScan | null> {
    return this.prisma.message.findUnique({ where: { id }, include: { account: { include: { domains: true } } } });
  }

  readRaw(message: Pick<Message, 'rawMessageId'>): Promise<Buffer | null> {
    return this.rawStore.get(this.prisma, message.rawMessageId);
  }

  /** Messages stored before `olderThan` that still wait for a scan (the sweeper's outbox read). */
  findPendingScan(olderThan: Date, limit = 500): Promise<Array<Pick<Message, 'id' | 'accountId'>>> {
    return this.prisma.message.findMany({
      where: { scanStatus: 'PENDING', receivedAt: { lt: olderThan } },
      select: { id: true, accountId: true },
      orderBy: { receivedAt: 'asc' },
      take: limit,
    });
  }

  /**
   * Records the per-recipient verdicts and marks the message scanned, in one transaction; a QUARANTINE decision
   * also lists the message in the quarantine (enforced=false: "would have been quarantined", nothing held).
   * Idempotent: a redelivered scan job that finds the message already scanned changes nothing.
   */
  async saveVerdicts(
    message: Pick<Message, 'id' | 'accountId'>,
    verdicts: VerdictInput[],
    status: 'SCANNED' | 'SKIPPED' = 'SCANNED',
    options: { quarantineExpiresAt?: Date | null } = {},
  ): Promise<{ verdicts: Verdict[]; alreadyScanned: boolean }> {
    return this.prisma.$transaction(async (tx) => {
      const claimed = await tx.message.updateMany({
        where: { id: message.id, scanStatus: 'PENDING' },
        data: { scanStatus: status, scannedAt: new Date() },
      });
      if (claimed.count === 0) {
        return { verdicts: await tx.verdict.findMany({ where: { messageId: message.id } }), alreadyScanned: true };
      }
      const saved = await writeVerdicts(tx, message, verdicts, options.quarantineExpiresAt ?? null);
      return { verdicts: saved, alreadyScanned: false };
    });
  }
}

import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  FINAL_ITEM_STATUSES,
  MessageHistoryRepository,
  Microsoft365Repository,
  type AuditActor,
  type M365RemediationAction,
  type MessageSearchFilters,
  type Prisma,
  type RemediationWithItems,
} from '@mailwarden/db';
import { remediateMailbox } from './mailbox-remediation';
import { MICROSOFT365_OPTIONS, type Microsoft365ModuleOptions } from './microsoft365.options';
import { Microsoft365Queues } from './microsoft365-queues';
import { Microsoft365Service } from './microsoft365.service';

/** The most messages one remediation by search may act on (the preview says when a search matches more). */
export const MAX_REMEDIATION_MESSAGES = 10_000;

/** A refused remediation request (bad recipients, nothing to do, too many messages, restore of a hard delete). */
export class RemediationRequestError extends Error {
  constructor(
    readonly code: 'NO_MAILBOXES' | 'RECIPIENT_NOT_IN_MESSAGE' | 'TOO_MANY_MESSAGES' | 'NOT_RESTORABLE' | 'NOT_FINISHED',
    message: string,
  ) {
    super(message);
    this.name = 'RemediationRequestError';
  }
}

export interface RemediationTarget {
  messageId: string;
  recipient: string;
  internetMessageId: string;
}

export interface RemediationPreview {
  messages: number;
  mailboxes: number;
  /** Messages left out: no Message-ID header, or no recipient in the account's domains. */
  skippedMessages: number;
  tooMany: boolean;
}

type MessageRow = { id: string; envelopeTo: string[]; messageIdHeader: string | null };

/** Graph's internetMessageId keeps the angle brackets of the Message-ID header. */
const internetMessageIdOf = (header: string): string => {
  const trimmed = header.trim();
  return trimmed.startsWith('<') ? trimmed : `<${trimmed}>`;
};

/**
 * Clawback of delivered mail in Microsoft 365 mailboxes: plans a remediation (one item per message and recipient
 * mailbox in the account's domains), queues it, and works through it in the worker. Every item is marked
 * IN_PROGRESS before Graph is called and final after, so a run resumed after a crash only redoes unfinished
 * mailboxes, and remediateMailbox's destination check keeps a half-done one from acting twice.
 */
@Injectable()
export class RemediationService {
  private readonly logger = new Logger(RemediationService.name);

  constructor(
    @Inject(MICROSOFT365_OPTIONS) private readonly options: Microsoft365ModuleOptions,
    private readonly microsoft365: Microsoft365Service,
    private readonly repository: Microsoft365Repository,
    private readonly history: MessageHistoryRepository,
    private readonly queues: Microsoft365Queues,
  ) {}

  async fromMessages(accountId: string, input: { messageIds: string[]; recipients?: string[]; action: M365RemediationAction }, actor: AuditActor): Promise<RemediationWithItems | null> {
    await this.microsoft365.requireConnection(accountId);
    const messages = await this.repository.findMessages(accountId, input.messageIds);
    if (messages.length !== new Set(input.messageIds).size) {
      return null; // a message of another account, or none: 404
    }
    const recipients = input.recipients?.map((recipient) => recipient.trim().toLowerCase());
    if (recipients) {
      const known = new Set(messages.flatMap((message) => message.envelopeTo));
      const unknown = recipients.find((recipient) => !known.has(recipient));
      if (unknown) {
        throw new RemediationRequestError('RECIPIENT_NOT_IN_MESSAGE', `${unknown} is not a recipient of the message`);
      }
    }
    const targets = this.targets(messages, await this.repository.accountDomainNames(accountId), recipients);
    return this.create(accountId, input.action, { messageIds: input.messageIds, ...(recipients ? { recipients } : {}) }, targets.targets, actor);
  }

  async preview(accountId: string, filters: MessageSearchFilters): Promise<RemediationPreview> {
    await this.microsoft365.requireConnection(accountId);
    const { targets, skipped, messages, tooMany } = await this.search(accountId, filters);
    return { messages: messages - skipped, mailboxes: targets.length, skippedMessages: skipped, tooMany };
  }

  async fromSearch(accountId: string, input: { filters: MessageSearchFilters; action: M365RemediationAction; expectedMessages?: number }, actor: AuditActor): Promise<RemediationWithItems> {
    await this.microsoft365.requireConnection(accountId);
    const { targets, tooMany } = await this.search(accountId, input.filters);
    if (tooMany) {
      throw new RemediationRequestError('TOO_MANY_MESSAGES', `the search matches more than ${MAX_REMEDIATION_MESSAGES} messages: narrow it`);
    }
    const criteria = JSON.parse(JSON.stringify({ search: input.filters })) as Prisma.InputJsonValue;
    return this.create(accountId, input.action, criteria, targets, actor);
  }

  /** Moves back to the inbox what a finished remediation moved (hard deletes cannot come back). */
  async restore(accountId: string, remediationId: string, actor: AuditActor): Promise<RemediationWithItems | null> {
    const original = await this.repository.findRemediation(accountId, remediationId);
    if (!original) {
      return null;
    }
    if (original.action === 'HARD_DELETE' || original.action === 'RESTORE_TO_INBOX') {
      throw new RemediationRequestError('NOT_RESTORABLE', original.action === 'HARD_DELETE' ? 'a hard-deleted message cannot be restored' : 'a restore cannot be restored');
    }
    if (original.status === 'QUEUED' || original.status === 'IN_PROGRESS') {
      throw new RemediationRequestError('NOT_FINISHED', 'the remediation is still running: restore it once it has finished');
    }
    await this.microsoft365.requireConnection(accountId);
    const targets = original.items
      .filter((item) => item.status === 'COMPLETED' || item.status === 'ALREADY_IN_DESTINATION')
      .map((item) => ({ messageId: item.messageId, recipient: item.recipient, internetMessageId: item.internetMessageId }));
    return this.create(accountId, 'RESTORE_TO_INBOX', { restoreOf: remediationId }, targets, actor, remediationId);
  }

  /**
   * Works through a remediation's unfinished items (the worker's job). `signal` aborts it as a crash would: nothing
   * more is recorded, and the next run takes over from the items' states.
   */
  async process(remediationId: string, signal?: AbortSignal): Promise<'finished' | 'already-finished' | 'gone'> {
    const remediation = await this.repository.findRemediationForWork(remediationId);
    if (!remediation) {
      return 'gone';
    }
    if (remediation.status !== 'QUEUED' && remediation.status !== 'IN_PROGRESS') {
      return 'already-finished';
    }
    const owner = randomUUID();
    const leaseMs = this.options.remediationLeaseMs ?? 60_000;
    // Another worker holds it (a stalled job handed out again while its first run lives, or a dead worker's lease not
    // yet run out): wait until that run finishes it or its lease expires.
    while (!(await this.repository.leaseRemediation(remediationId, owner, leaseMs))) {
      signal?.throwIfAborted();
      const current = await this.repository.findRemediationForWork(remediationId);
      if (!current || (current.status !== 'QUEUED' && current.status !== 'IN_PROGRESS')) {
        return 'already-finished';
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.ceil(leaseMs / 2))));
    }
    const leased = await this.repository.findRemediationForWork(remediationId);
    // Renewed while this run works; a lost lease (another worker took over after a stall) stops this run.
    const lost = new AbortController();
    const renew = setInterval(() => {
      this.repository.leaseRemediation(remediationId, owner, leaseMs).then(
        (held) => held || lost.abort(new Error('remediation lease lost')),
        () => undefined,
      );
    }, Math.max(50, Math.floor(leaseMs / 3)));
    signal = signal ? AbortSignal.any([signal, lost.signal]) : lost.signal;
    try {
      return await this.work(leased!, signal);
    } finally {
      clearInterval(renew);
    }
  }

  private async work(remediation: RemediationWithItems, signal: AbortSignal): Promise<'finished'> {
    const remediationId = remediation.id;
    const pending = remediation.items.filter((item) => !FINAL_ITEM_STATUSES.includes(item.status));
    const connection = await this.repository.findConnection(remediation.accountId);
    if (!connection || !this.microsoft365.isConfigured) {
      for (const item of pending) {
        await this.repository.finishItem(item.id, { status: 'FAILED', errorCode: 'not-connected', errorMessage: 'the account has no Microsoft 365 connection' });
      }
    } else {
      const graph = this.microsoft365.graph(connection.tenantId, signal);
      const graphIds = await this.repository.graphUserIds(remediation.accountId, [...new Set(pending.map((item) => item.recipient))]);
      let next = 0;
      const worker = async () => {
        while (next < pending.length) {
          const item = pending[next++]!;
          signal.throwIfAborted();
          const wasAttempted = item.status === 'IN_PROGRESS' || item.attempts > 0;
          await this.repository.startItem(item.id);
          const outcome = await remediateMailbox(graph, graphIds.get(item.recipient) ?? item.recipient, item.internetMessageId, remediation.action, wasAttempted);
          signal.throwIfAborted();
          await this.repository.finishItem(
            item.id,
            outcome.status === 'FAILED'
              ? { status: 'FAILED', errorCode: outcome.error.code, errorMessage: outcome.error.message }
              : outcome.status === 'NOT_FOUND'
                ? { status: 'NOT_FOUND', errorMessage: outcome.detail }
                : { status: outcome.status, graphMessageId: outcome.graphMessageId },
          );
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.options.remediationConcurrency ?? 16, pending.length) }, worker));
    }
    signal.throwIfAborted();
    const finished = await this.repository.finishRemediation(remediationId);
    this.logger.log({ event: 'microsoft365.remediation.finished', remediationId, accountId: remediation.accountId, status: finished.status, mailboxes: remediation.items.length });
    return 'finished';
  }

  private async create(
    accountId: string,
    action: M365RemediationAction,
    criteria: Prisma.InputJsonValue,
    targets: RemediationTarget[],
    actor: AuditActor,
    restoreOf?: string,
  ): Promise<RemediationWithItems> {
    if (targets.length === 0) {
      throw new RemediationRequestError('NO_MAILBOXES', 'no mailbox to act on: the messages have no Message-ID or no recipient in the account\'s domains');
    }
    const remediation = await this.repository.createRemediation(accountId, { action, criteria, items: targets, restoreOf }, actor);
    await this.queues.enqueueRemediation(accountId, remediation.id);
    return remediation;
  }

  private async search(accountId: string, filters: MessageSearchFilters): Promise<{ targets: RemediationTarget[]; skipped: number; messages: number; tooMany: boolean }> {
    const rows: MessageRow[] = [];
    let after: { receivedAt: Date; id: string } | undefined;
    for (;;) {
      const page = await this.history.search(accountId, filters, { after, limit: 500 });
      rows.push(...page.map((message) => ({ id: message.id, envelopeTo: message.envelopeTo, messageIdHeader: message.messageIdHeader })));
      if (page.length < 500 || rows.length > MAX_REMEDIATION_MESSAGES) {
        break;
      }
      const last = page[page.length - 1]!;
      after = { receivedAt: last.receivedAt, id: last.id };
    }
    const tooMany = rows.length > MAX_REMEDIATION_MESSAGES;
    const { targets, skipped } = this.targets(rows.slice(0, MAX_REMEDIATION_MESSAGES), await this.repository.accountDomainNames(accountId));
    return { targets, skipped, messages: Math.min(rows.length, MAX_REMEDIATION_MESSAGES), tooMany };
  }

  private targets(messages: MessageRow[], domains: Set<string>, only?: string[]): { targets: RemediationTarget[]; skipped: number } {
    const targets: RemediationTarget[] = [];
    let skipped = 0;
    for (const message of messages) {
      const recipients = [...new Set(message.envelopeTo.map((recipient) => recipient.toLowerCase()))].filter(
        (recipient) => domains.has(recipient.split('@')[1] ?? '') && (!only || only.includes(recipient)),
      );
      if (!message.messageIdHeader || recipients.length === 0) {
        skipped++;
        continue;
      }
      const internetMessageId = internetMessageIdOf(message.messageIdHeader);
      targets.push(...recipients.map((recipient) => ({ messageId: message.id, recipient, internetMessageId })));
    }
    return { targets, skipped };
  }
}

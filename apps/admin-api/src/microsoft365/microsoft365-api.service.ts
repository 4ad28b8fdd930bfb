import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AdminApiConfig } from '@mailwarden/config';
import { Microsoft365Repository, type M365Connection, type M365Remediation, type M365SyncRun, type RemediationWithItems } from '@mailwarden/db';
import {
  ConsentStateError,
  CsvImportError,
  DirectorySyncService,
  Microsoft365Service,
  Microsoft365Unavailable,
  RemediationRequestError,
  RemediationService,
} from '@mailwarden/microsoft365';
import { decodeCursor, decodeDate, decodeUuid, pageLimit, toPage, type Page } from '../common/cursor';
import type { PageQueryDto } from '../common/dto/page-query.dto';
import { ApiProblem, ProblemCode } from '../common/problem-code';
import { actorOf, type Principal } from '../common/principal';
import { TenantAccess } from '../common/tenant-access.service';
import type { ConnectionCheckDto } from './dto/connection-check.dto';
import type { ConsentResultDto } from './dto/consent-result.dto';
import type { ConsentUrlDto } from './dto/consent-url.dto';
import type { CreateRemediationDto } from './dto/create-remediation.dto';
import type { Microsoft365ConnectionDto } from './dto/microsoft365-connection.dto';
import type { RemediateMessageDto } from './dto/remediate-message.dto';
import type { RemediationPreviewDto } from './dto/remediation-preview.dto';
import type { RemediationSearchDto } from './dto/remediation-search.dto';
import type { RemediationDto } from './dto/remediation.dto';
import type { SyncRunDto } from './dto/sync-run.dto';

/** Where Microsoft sends the admin back after consent (register it on the app registration). */
export const CONSENT_CALLBACK_PATH = '/v1/integrations/microsoft365/consent-callback';

const REMEDIATION_STATUS: Record<RemediationRequestError['code'], number> = {
  NO_MAILBOXES: 409,
  RECIPIENT_NOT_IN_MESSAGE: 400,
  TOO_MANY_MESSAGES: 400,
  NOT_RESTORABLE: 409,
  NOT_FINISHED: 409,
};

function toSyncRunDto(run: M365SyncRun): SyncRunDto {
  return {
    id: run.id,
    trigger: run.trigger,
    status: run.status,
    fullSync: run.fullSync,
    mailboxesAdded: run.mailboxesAdded,
    mailboxesUpdated: run.mailboxesUpdated,
    mailboxesRemoved: run.mailboxesRemoved,
    groupsAdded: run.groupsAdded,
    groupsUpdated: run.groupsUpdated,
    groupsRemoved: run.groupsRemoved,
    membershipsSet: run.membershipsSet,
    error: run.error,
    createdAt: run.createdAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
  };
}

export function toRemediationDto(remediation: M365Remediation | RemediationWithItems, counts?: Record<string, number>): RemediationDto {
  const items = 'items' in remediation ? remediation.items : undefined;
  const tally = counts ?? {};
  if (!counts && items) {
    for (const item of items) {
      tally[item.status] = (tally[item.status] ?? 0) + 1;
    }
  }
  return {
    id: remediation.id,
    action: remediation.action,
    status: remediation.status,
    restoreOf: remediation.restoreOf,
    criteria: remediation.criteria as Record<string, unknown>,
    requestedBy: remediation.requestedBy,
    counts: tally,
    createdAt: remediation.createdAt.toISOString(),
    finishedAt: remediation.finishedAt?.toISOString() ?? null,
    ...(items
      ? {
          items: items.map((item) => ({
            messageId: item.messageId,
            recipient: item.recipient,
            internetMessageId: item.internetMessageId,
            status: item.status,
            errorCode: item.errorCode,
            errorMessage: item.errorMessage,
            attempts: item.attempts,
            updatedAt: item.updatedAt.toISOString(),
          })),
        }
      : {}),
  };
}

function searchFilters(search: RemediationSearchDto) {
  const filters = {
    sender: search.sender,
    subject: search.subject,
    messageId: search.messageId,
    recipient: search.recipient,
    from: search.from ? new Date(search.from) : undefined,
    to: search.to ? new Date(search.to) : undefined,
  };
  if (!Object.values(filters).some((value) => value !== undefined)) {
    throw new ApiProblem(400, ProblemCode.ValidationFailed, 'give at least one search filter', [{ field: 'search', code: 'INVALID_VALUE', message: 'search needs at least one filter' }]);
  }
  return filters;
}

/**
 * The Microsoft 365 routes over libs/microsoft365: tenant check first (another tenant's account is 404 whatever its
 * state), then the lib's refusals mapped to problem codes.
 */
@Injectable()
export class Microsoft365ApiService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AdminApiConfig,
    private readonly access: TenantAccess,
    private readonly microsoft365: Microsoft365Service,
    private readonly directorySync: DirectorySyncService,
    private readonly remediations: RemediationService,
    private readonly repository: Microsoft365Repository,
  ) {}

  get redirectUri(): string {
    return new URL(CONSENT_CALLBACK_PATH, this.config.PUBLIC_BASE_URL).toString();
  }

  async get(principal: Principal, accountId: string): Promise<Microsoft365ConnectionDto> {
    await this.access.account(principal, accountId);
    return this.toConnectionDto(await this.microsoft365.getConnection(accountId));
  }

  async consentUrl(principal: Principal, accountId: string): Promise<ConsentUrlDto> {
    await this.access.account(principal, accountId);
    this.requireSecretsKey();
    const { url, expiresAt } = await this.guard(() => Promise.resolve(this.microsoft365.consentUrl(accountId, actorOf(principal), this.redirectUri)));
    return { url, expiresAt: expiresAt.toISOString(), redirectUri: this.redirectUri };
  }

  async completeConsent(query: Record<string, unknown>): Promise<ConsentResultDto> {
    this.requireSecretsKey();
    const text = (name: string) => (typeof query[name] === 'string' ? (query[name] as string) : undefined);
    const outcome = await this.guard(() =>
      this.microsoft365.completeConsent({ state: text('state'), tenant: text('tenant'), admin_consent: text('admin_consent'), error: text('error'), error_description: text('error_description') }),
    );
    if (outcome.status === 'refused') {
      // Shown to the admin as Microsoft sent it back.
      throw new ApiProblem(400, ProblemCode.ConsentRefused, outcome.errorDescription || outcome.error, [{ field: 'error', code: outcome.error, message: outcome.errorDescription }]);
    }
    return { status: 'connected', accountId: outcome.accountId, tenantId: outcome.connection.tenantId };
  }

  async check(principal: Principal, accountId: string): Promise<ConnectionCheckDto> {
    await this.access.account(principal, accountId);
    return this.guard(() => this.microsoft365.check(accountId));
  }

  async remove(principal: Principal, accountId: string): Promise<Microsoft365ConnectionDto> {
    await this.access.account(principal, accountId);
    const removed = await this.microsoft365.disconnect(accountId, actorOf(principal));
    if (!removed) {
      throw new ApiProblem(404, ProblemCode.NotFound, 'this account has no Microsoft 365 connection');
    }
    return this.toConnectionDto(removed);
  }

  async startSync(principal: Principal, accountId: string): Promise<SyncRunDto> {
    await this.access.account(principal, accountId);
    return toSyncRunDto(await this.guard(() => this.directorySync.requestSync(accountId)));
  }

  async listSyncs(principal: Principal, accountId: string, query: PageQueryDto): Promise<Page<SyncRunDto>> {
    await this.access.account(principal, accountId);
    const limit = pageLimit(query.limit);
    const cursor = decodeCursor(query.cursor, ['createdAt', 'id'] as const);
    const rows = await this.repository.listSyncRuns(accountId, { before: cursor ? { createdAt: decodeDate(cursor.createdAt), id: decodeUuid(cursor.id) } : undefined, limit: limit + 1 });
    return toPage(rows, limit, (run) => ({ createdAt: run.createdAt.toISOString(), id: run.id }), toSyncRunDto);
  }

  async importMailboxes(principal: Principal, accountId: string, csv: string): Promise<SyncRunDto> {
    await this.access.account(principal, accountId);
    try {
      return toSyncRunDto((await this.directorySync.importCsv(accountId, csv, actorOf(principal))).run);
    } catch (error) {
      if (error instanceof CsvImportError) {
        throw new ApiProblem(
          400,
          ProblemCode.CsvInvalid,
          error.message,
          error.problems.map((problem) => ({ field: `row ${problem.row}`, code: ProblemCode.CsvInvalid, message: problem.message })),
        );
      }
      throw error;
    }
  }

  async remediateMessage(principal: Principal, accountId: string, messageId: string, dto: RemediateMessageDto): Promise<RemediationDto> {
    await this.access.account(principal, accountId);
    const remediation = await this.guard(() => this.remediations.fromMessages(accountId, { messageIds: [messageId], recipients: dto.recipients, action: dto.action }, actorOf(principal)));
    if (!remediation) {
      throw ApiProblem.notFound('message', messageId);
    }
    return toRemediationDto(remediation);
  }

  async preview(principal: Principal, accountId: string, search: RemediationSearchDto): Promise<RemediationPreviewDto> {
    await this.access.account(principal, accountId);
    const filters = searchFilters(search);
    return this.guard(() => this.remediations.preview(accountId, filters));
  }

  async create(principal: Principal, accountId: string, dto: CreateRemediationDto): Promise<RemediationDto> {
    await this.access.account(principal, accountId);
    if ((dto.messageIds === undefined) === (dto.search === undefined)) {
      throw new ApiProblem(400, ProblemCode.ValidationFailed, 'give either messageIds or search', [{ field: 'messageIds', code: 'INVALID_VALUE', message: 'give either messageIds or search, not both' }]);
    }
    if (dto.messageIds) {
      const remediation = await this.guard(() => this.remediations.fromMessages(accountId, { messageIds: dto.messageIds!, action: dto.action }, actorOf(principal)));
      if (!remediation) {
        throw new ApiProblem(404, ProblemCode.NotFound, 'one or more messages were not found');
      }
      return toRemediationDto(remediation);
    }
    const filters = searchFilters(dto.search!);
    if (dto.expectedMessages !== undefined) {
      const preview = await this.guard(() => this.remediations.preview(accountId, filters));
      if (preview.messages !== dto.expectedMessages) {
        throw new ApiProblem(409, ProblemCode.RemediationPreviewChanged, `the search now matches ${preview.messages} messages, not ${dto.expectedMessages}: preview again`);
      }
    }
    return toRemediationDto(await this.guard(() => this.remediations.fromSearch(accountId, { filters, action: dto.action }, actorOf(principal))));
  }

  async list(principal: Principal, accountId: string, query: PageQueryDto): Promise<Page<RemediationDto>> {
    await this.access.account(principal, accountId);
    const limit = pageLimit(query.limit);
    const cursor = decodeCursor(query.cursor, ['createdAt', 'id'] as const);
    const rows = await this.repository.listRemediations(accountId, { before: cursor ? { createdAt: decodeDate(cursor.createdAt), id: decodeUuid(cursor.id) } : undefined, limit: limit + 1 });
    const counts = await this.repository.itemCounts(rows.map((row) => row.id));
    return toPage(rows, limit, (row) => ({ createdAt: row.createdAt.toISOString(), id: row.id }), (row) => toRemediationDto(row, counts.get(row.id) ?? {}));
  }

  async getOne(principal: Principal, accountId: string, remediationId: string): Promise<RemediationDto> {
    await this.access.account(principal, accountId);
    const remediation = await this.repository.findRemediation(accountId, remediationId);
    if (!remediation) {
      throw ApiProblem.notFound('remediation', remediationId);
    }
    return toRemediationDto(remediation);
  }

  async restore(principal: Principal, accountId: string, remediationId: string): Promise<RemediationDto> {
    await this.access.account(principal, accountId);
    const restore = await this.guard(() => this.remediations.restore(accountId, remediationId, actorOf(principal)));
    if (!restore) {
      throw ApiProblem.notFound('remediation', remediationId);
    }
    return toRemediationDto(restore);
  }

  async ofMessage(principal: Principal, accountId: string, messageId: string): Promise<RemediationDto[]> {
    await this.access.account(principal, accountId);
    return (await this.repository.listRemediationsOfMessage(accountId, messageId)).map((remediation) => toRemediationDto(remediation));
  }

  private toConnectionDto(connection: M365Connection | null): Microsoft365ConnectionDto {
    return {
      appConfigured: this.microsoft365.isConfigured,
      connected: connection !== null,
      tenantId: connection?.tenantId ?? null,
      consentedAt: connection?.consentedAt.toISOString() ?? null,
      consentedBy: connection?.consentedBy ?? null,
      lastSyncAt: connection?.lastSyncAt?.toISOString() ?? null,
      nextSyncIsFull: !connection?.usersDeltaLink || !connection.groupsDeltaLink,
    };
  }

  private requireSecretsKey(): void {
    if (!this.config.SECRETS_KEY) {
      throw new ApiProblem(503, ProblemCode.SecretsKeyNotConfigured, 'SECRETS_KEY not configured: the admin API cannot sign the consent state');
    }
  }

  /** The lib's refusals as problems. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof Microsoft365Unavailable) {
        if (error.reason === 'app-not-configured') {
          throw new ApiProblem(503, ProblemCode.Microsoft365NotConfigured, error.message);
        }
        throw new ApiProblem(409, error.reason === 'not-connected' ? ProblemCode.Microsoft365NotConnected : ProblemCode.Microsoft365TenantConnectedElsewhere, error.message);
      }
      if (error instanceof ConsentStateError) {
        throw new ApiProblem(400, ProblemCode.InvalidConsentState, error.message);
      }
      if (error instanceof RemediationRequestError) {
        throw new ApiProblem(REMEDIATION_STATUS[error.code], `REMEDIATION_${error.code}`, error.message);
      }
      throw error;
    }
  }
}

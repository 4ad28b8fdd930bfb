import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AdminApiConfig } from '@mailwarden/config';
import { AccountRepository, ApiKeyRepository, type Account, type ApiKeyView } from '@mailwarden/db';
import { journalAddress } from '@mailwarden/mode-migrations';
import { decodeCursor, decodeDate, decodeUuid, pageLimit, toPage, type Page } from '../common/cursor';
import type { PageQueryDto } from '../common/dto/page-query.dto';
import { ApiProblem } from '../common/problem-code';
import { actorOf, type Principal } from '../common/principal';
import { TenantAccess } from '../common/tenant-access.service';
import type { AccountDto } from './dto/account.dto';
import type { ApiKeyDto } from './dto/api-key.dto';
import type { CreateAccountDto } from './dto/create-account.dto';
import type { CreateApiKeyDto } from './dto/create-api-key.dto';
import type { CreatedApiKeyDto } from './dto/created-api-key.dto';
import type { CreatePartnerApiKeyDto } from './dto/create-partner-api-key.dto';

export function toApiKeyDto(key: ApiKeyView): ApiKeyDto {
  return {
    id: key.id,
    prefix: key.prefix,
    name: key.name,
    role: key.role,
    accountId: key.accountId,
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}

const createdAtCursor = (row: { createdAt: Date; id: string }) => ({ createdAt: row.createdAt.toISOString(), id: row.id });

function createdAtAfter(cursor: string | undefined) {
  const decoded = decodeCursor(cursor, ['createdAt', 'id'] as const);
  return decoded ? { createdAt: decodeDate(decoded.createdAt), id: decodeUuid(decoded.id) } : undefined;
}

@Injectable()
export class AccountsService {
  constructor(
    private readonly accounts: AccountRepository,
    private readonly apiKeys: ApiKeyRepository,
    private readonly access: TenantAccess,
    @Inject(APP_CONFIG) private readonly config: AdminApiConfig,
  ) {}

  toDto(account: Account): AccountDto {
    return {
      id: account.id,
      partnerId: account.partnerId,
      name: account.name,
      monitorOnly: account.monitorOnly,
      journalAddress: journalAddress(account.journalToken, this.config.JOURNAL_DOMAIN),
      createdAt: account.createdAt.toISOString(),
      updatedAt: account.updatedAt.toISOString(),
    };
  }

  async create(principal: Principal, dto: CreateAccountDto): Promise<AccountDto> {
    const account = await this.accounts.create({ name: dto.name.trim(), partnerId: principal.partnerId, monitorOnly: dto.monitorOnly ?? true }, actorOf(principal));
    return this.toDto(account);
  }

  async list(principal: Principal, query: PageQueryDto): Promise<Page<AccountDto>> {
    const limit = pageLimit(query.limit);
    const visibility = principal.role === 'PARTNER_ADMIN' ? { partnerId: principal.partnerId ?? '00000000-0000-0000-0000-000000000000' } : { accountId: principal.accountId! };
    const rows = await this.accounts.list(visibility, { after: createdAtAfter(query.cursor), limit: limit + 1 });
    return toPage(rows, limit, createdAtCursor, (row) => this.toDto(row));
  }

  async get(principal: Principal, accountId: string): Promise<AccountDto> {
    return this.toDto(await this.access.account(principal, accountId));
  }

  async createApiKey(principal: Principal, accountId: string, dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    const account = await this.access.account(principal, accountId);
    const { key, plaintext } = await this.apiKeys.create({ accountId, partnerId: account.partnerId, name: dto.name.trim(), role: dto.role }, actorOf(principal));
    return { ...toApiKeyDto(key), key: plaintext };
  }

  async listApiKeys(principal: Principal, accountId: string, query: PageQueryDto): Promise<Page<ApiKeyDto>> {
    await this.access.account(principal, accountId);
    const limit = pageLimit(query.limit);
    const rows = await this.apiKeys.list(accountId, { after: createdAtAfter(query.cursor), limit: limit + 1 });
    return toPage(rows, limit, createdAtCursor, toApiKeyDto);
  }

  /** A new partner admin key of the caller's own partner (another partner: 404), optionally revoking one: rotation. */
  async createPartnerApiKey(principal: Principal, partnerId: string, dto: CreatePartnerApiKeyDto): Promise<CreatedApiKeyDto> {
    if (principal.partnerId !== partnerId) {
      throw ApiProblem.notFound('partner', partnerId);
    }
    if (dto.revokes && !(await this.apiKeys.findPartnerKey(partnerId, dto.revokes))) {
      throw ApiProblem.notFound('api key', dto.revokes);
    }
    const { key, plaintext } = await this.apiKeys.create(
      { accountId: null, partnerId, name: dto.name.trim(), role: 'PARTNER_ADMIN', revokes: dto.revokes },
      actorOf(principal),
    );
    return { ...toApiKeyDto(key), key: plaintext };
  }

  async revokeApiKey(principal: Principal, accountId: string, keyId: string): Promise<ApiKeyDto> {
    await this.access.account(principal, accountId);
    const key = await this.apiKeys.revoke({ accountId }, keyId, actorOf(principal));
    if (!key) {
      throw ApiProblem.notFound('API key', keyId);
    }
    return toApiKeyDto(key);
  }
}

export { createdAtAfter, createdAtCursor };

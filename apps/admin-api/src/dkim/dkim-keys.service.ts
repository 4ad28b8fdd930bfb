import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AdminApiConfig } from '@mailwarden/config';
import { DkimKeyRepository, DomainRepository, type DkimKeyAlgorithm, type DkimKeyPublic, type Domain } from '@mailwarden/db';
import { dkimKeyCipherContext, dkimRecordName, dkimRecordPublishes, dkimSelectorProblem, generateDkimKey, type DkimAlgorithm } from '@mailwarden/delivery';
import { CredentialsCipher } from '@mailwarden/mimecast';
import { CachingDnsResolver } from '@mailwarden/sender-checks';
import { decodeCursor, pageLimit, toPage, type Page } from '../common/cursor';
import type { PageQueryDto } from '../common/dto/page-query.dto';
import { actorOf, type Principal } from '../common/principal';
import { ApiProblem, ProblemCode } from '../common/problem-code';
import { TenantAccess } from '../common/tenant-access.service';
import { lookupTxt } from '../common/txt-lookup';
import type { VerifyDomainQueryDto } from '../domains/dto/verify-domain-query.dto';
import type { CreateDkimKeyDto } from './dto/create-dkim-key.dto';
import type { DkimKeyCheckDto, DkimKeyDto } from './dto/dkim-key.dto';

const ALGORITHM_OF: Record<DkimAlgorithm, DkimKeyAlgorithm> = { 'rsa-sha256': 'RSA_SHA256', 'ed25519-sha256': 'ED25519_SHA256' };
const NAME_OF: Record<DkimKeyAlgorithm, DkimAlgorithm> = { RSA_SHA256: 'rsa-sha256', ED25519_SHA256: 'ed25519-sha256' };

function toDto(key: DkimKeyPublic, domain: Pick<Domain, 'name'>): DkimKeyDto {
  return {
    id: key.id,
    accountId: key.accountId,
    domainId: key.domainId,
    domain: domain.name,
    selector: key.selector,
    algorithm: NAME_OF[key.algorithm],
    status: key.status,
    dnsRecord: { name: dkimRecordName(key.selector, domain.name), type: 'TXT', value: key.dnsRecord, zoneFileValue: zoneFileStrings(key.dnsRecord) },
    lastCheckAt: key.lastCheckAt?.toISOString() ?? null,
    activatedAt: key.activatedAt?.toISOString() ?? null,
    retiredAt: key.retiredAt?.toISOString() ?? null,
    createdAt: key.createdAt.toISOString(),
  };
}

/** A TXT value as zone-file strings of at most 255 characters (the record's value is ASCII: no quotes or backslashes). */
const zoneFileStrings = (value: string) => (value.match(/.{1,255}/g) ?? ['']).map((part) => `"${part}"`).join(' ');

/** A selector nobody chose: `mw<yyyymmdd><4 hex>`, so a rotation gets a new one without thinking about it. */
const defaultSelector = () => `mw${new Date().toISOString().slice(0, 10).replace(/-/g, '')}${randomBytes(2).toString('hex')}`;

/**
 * Outbound DKIM keys per domain (issue 16): generate (RSA-2048 or Ed25519, private key encrypted with SECRETS_KEY),
 * list with the TXT record to publish, check DNS (activates a pending key only when the published record is exactly
 * the generated one), retire. Without SECRETS_KEY a key could not be stored: 503 SECRETS_KEY_NOT_CONFIGURED, after
 * the tenant check (another tenant's account is 404 whether or not the key is set).
 */
@Injectable()
export class DkimKeysService {
  private readonly cipher: CredentialsCipher | null;

  constructor(
    private readonly keys: DkimKeyRepository,
    private readonly domains: DomainRepository,
    private readonly access: TenantAccess,
    private readonly dns: CachingDnsResolver,
    @Inject(APP_CONFIG) config: AdminApiConfig,
  ) {
    this.cipher = config.SECRETS_KEY ? new CredentialsCipher(config.SECRETS_KEY) : null;
  }

  async create(principal: Principal, accountId: string, domainId: string, dto: CreateDkimKeyDto): Promise<DkimKeyDto> {
    const domain = await this.domain(principal, accountId, domainId);
    const selector = (dto.selector ?? defaultSelector()).trim().toLowerCase();
    const problem = dkimSelectorProblem(selector, domain.name);
    if (problem) {
      throw new ApiProblem(400, ProblemCode.ValidationFailed, `selector refused: ${problem}`, [{ field: 'selector', code: 'INVALID_SELECTOR', message: problem }]);
    }
    if (domain.verificationStatus !== 'VERIFIED') {
      // Signing for a name the account has not proven it holds would lend Mailwarden's relay to a squatter.
      throw new ApiProblem(409, ProblemCode.DomainNotVerified, `domain ${domain.name} is not verified: verify it before generating a DKIM key`);
    }
    const cipher = this.requireCipher();
    const algorithm = dto.algorithm ?? 'rsa-sha256';
    const generated = generateDkimKey(algorithm);
    const id = randomUUID();
    try {
      const created = await this.keys.create(
        {
          id,
          accountId,
          domainId,
          selector,
          algorithm: ALGORITHM_OF[algorithm],
          dnsRecord: generated.dnsRecord,
          encryptedPrivateKey: cipher.encrypt({ privateKey: generated.privateKey }, dkimKeyCipherContext(id)),
        },
        actorOf(principal),
      );
      return toDto(created, domain);
    } catch (error) {
      if ((error as { code?: string }).code === 'P2002') {
        throw new ApiProblem(409, ProblemCode.Conflict, `selector ${selector} was already used for ${domain.name}: choose another (a selector names one key for ever)`);
      }
      throw error;
    }
  }

  async list(principal: Principal, accountId: string, domainId: string, query: PageQueryDto): Promise<Page<DkimKeyDto>> {
    const domain = await this.domain(principal, accountId, domainId);
    const limit = pageLimit(query.limit);
    const after = decodeCursor(query.cursor, ['createdAt', 'id'] as const);
    const rows = await this.keys.list(accountId, domainId, { after, limit: limit + 1 });
    return toPage(rows, limit, (row) => ({ createdAt: row.createdAt.toISOString(), id: row.id }), (row) => toDto(row, domain));
  }

  async get(principal: Principal, accountId: string, domainId: string, keyId: string): Promise<DkimKeyDto> {
    const domain = await this.domain(principal, accountId, domainId);
    return toDto(await this.key(accountId, domainId, keyId), domain);
  }

  /**
   * Looks up `<selector>._domainkey.<domain>` (TXT) through the configured resolver and records the outcome; a
   * PENDING_DNS key becomes ACTIVE only when every DKIM record there is exactly the generated one. A DNS failure
   * decides nothing. Checking an ACTIVE or RETIRED key only records what DNS says.
   */
  async check(principal: Principal, accountId: string, domainId: string, keyId: string, query: VerifyDomainQueryDto = {}): Promise<DkimKeyCheckDto> {
    const domain = await this.domain(principal, accountId, domainId);
    const key = await this.key(accountId, domainId, keyId);
    const name = dkimRecordName(key.selector, domain.name);
    const { txtRecords, dnsError, fromCache } = await lookupTxt(this.dns, name, query.bypassCache === true);
    const matched = dnsError === null && dkimRecordPublishes(txtRecords, key.dnsRecord);
    const updated = await this.keys.recordCheck(accountId, domainId, keyId, { matched, evidence: { name, txtRecords, dnsError, matched, fromCache } }, actorOf(principal));
    if (!updated) {
      throw ApiProblem.notFound('DKIM key', keyId);
    }
    return { key: toDto(updated, domain), matched, activated: key.status === 'PENDING_DNS' && updated.status === 'ACTIVE', txtRecords, dnsError, fromCache };
  }

  async retire(principal: Principal, accountId: string, domainId: string, keyId: string): Promise<DkimKeyDto> {
    const domain = await this.domain(principal, accountId, domainId);
    const retired = await this.keys.retire(accountId, domainId, keyId, actorOf(principal));
    if (!retired) {
      throw ApiProblem.notFound('DKIM key', keyId);
    }
    return toDto(retired, domain);
  }

  private requireCipher(): CredentialsCipher {
    if (!this.cipher) {
      throw new ApiProblem(503, ProblemCode.SecretsKeyNotConfigured, 'SECRETS_KEY not configured: the admin API cannot store DKIM private keys');
    }
    return this.cipher;
  }

  private async domain(principal: Principal, accountId: string, domainId: string): Promise<Domain> {
    await this.access.account(principal, accountId);
    const domain = await this.domains.find(accountId, domainId);
    if (!domain) {
      throw ApiProblem.notFound('domain', domainId);
    }
    return domain;
  }

  private async key(accountId: string, domainId: string, keyId: string): Promise<DkimKeyPublic> {
    const key = await this.keys.find(accountId, domainId, keyId);
    if (!key) {
      throw ApiProblem.notFound('DKIM key', keyId);
    }
    return key;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AdminApiConfig } from '@mailwarden/config';
import { PolicyRepository, type Policy, type PolicyKind, type PolicyScope, type Prisma } from '@mailwarden/db';
import {
  buildPolicyLayers,
  DATA_CONTROL_OPTIONS,
  EMAIL_SECURITY_OPTIONS,
  getPath,
  lockCovers,
  resolveDataControlPolicy,
  resolveEmailSecurityPolicy,
  resolveRetention,
  retentionAboveCeiling,
  retentionCeiling,
  validateRetentionLocks,
  validateRetentionSettings,
  type EffectiveRetention,
  type RetentionSettingsPatch,
  validateDataControlLocks,
  validateDataControlSettings,
  validateEmailSecurityLocks,
  validateEmailSecuritySettings,
  type DataControlSettingsPatch,
  type EmailSecuritySettingsPatch,
  type PolicyTarget,
  type PolicyValidationError,
} from '@mailwarden/policy';
import { ApiProblem, ProblemCode } from '../common/problem-code';
import { actorOf, type Principal } from '../common/principal';
import { TenantAccess } from '../common/tenant-access.service';
import type { EffectivePolicyDto } from './dto/effective-policy.dto';
import type { EffectiveRetentionDto } from './dto/effective-retention.dto';
import type { PolicyDto } from './dto/policy.dto';
import type { POLICY_KINDS, POLICY_SCOPES } from './dto/policy-path.dto';
import type { PutPolicyDto } from './dto/put-policy.dto';

type KindParam = (typeof POLICY_KINDS)[number];
/** The Email Security sender lists a quarantine action may add an address to. */
export type SenderList = 'allowList' | 'blockList';
type ScopeParam = (typeof POLICY_SCOPES)[number];

const KIND: Record<KindParam, PolicyKind> = { 'email-security': 'EMAIL_SECURITY', 'data-control': 'DATA_CONTROL', retention: 'RETENTION' };

const SETTINGS_VALIDATORS: Record<PolicyKind, (settings: unknown) => PolicyValidationError[]> = {
  EMAIL_SECURITY: validateEmailSecuritySettings,
  DATA_CONTROL: validateDataControlSettings,
  RETENTION: validateRetentionSettings,
};
const LOCK_VALIDATORS: Record<PolicyKind, (locks: string[]) => PolicyValidationError[]> = {
  EMAIL_SECURITY: validateEmailSecurityLocks,
  DATA_CONTROL: validateDataControlLocks,
  RETENTION: validateRetentionLocks,
};
const SCOPE: Record<ScopeParam, PolicyScope> = { account: 'ACCOUNT', domain: 'DOMAIN', group: 'GROUP', user: 'USER' };

export function toPolicyDto(policy: Policy): PolicyDto {
  return {
    id: policy.id,
    kind: policy.kind,
    scope: policy.scope,
    scopeId: policy.scopeId,
    settings: policy.settings as object,
    locks: policy.locks,
    updatedAt: policy.updatedAt.toISOString(),
  };
}

function validate(kind: PolicyKind, dto: PutPolicyDto): PolicyValidationError[] {
  const settings = SETTINGS_VALIDATORS[kind](dto.settings);
  const locks = LOCK_VALIDATORS[kind](dto.locks);
  return [
    ...settings.map((error) => ({ ...error, field: `settings.${error.field}` })),
    ...locks.map((error) => ({ ...error, field: error.field.startsWith('locks') ? error.field : `locks.${error.field}` })),
  ];
}

@Injectable()
export class PoliciesService {
  constructor(
    private readonly policies: PolicyRepository,
    private readonly access: TenantAccess,
    @Inject(APP_CONFIG) private readonly config: Pick<AdminApiConfig, 'EMERGENCY_INBOX_DAYS'>,
  ) {}

  async get(principal: Principal, accountId: string, kind: KindParam, scope: ScopeParam, scopeId: string): Promise<PolicyDto> {
    await this.access.account(principal, accountId);
    await this.assertScope(accountId, scope, scopeId);
    const policy = await this.policies.find({ kind: KIND[kind], scope: SCOPE[scope], scopeId });
    if (!policy || policy.accountId !== accountId) {
      throw new ApiProblem(404, ProblemCode.NotFound, `no ${kind} policy is stored at ${scope} ${scopeId}`);
    }
    return toPolicyDto(policy);
  }

  async put(principal: Principal, accountId: string, kind: KindParam, scope: ScopeParam, scopeId: string, dto: PutPolicyDto): Promise<PolicyDto> {
    const account = await this.access.account(principal, accountId);
    await this.assertScope(accountId, scope, scopeId);
    const policyKind = KIND[kind];
    this.assertValid(policyKind, dto);
    if (policyKind === 'RETENTION') {
      await this.assertRetentionAllowed(scope, account.partnerId, dto);
    } else if (principal.role !== 'PARTNER_ADMIN' && account.partnerId) {
      // Options the partner locked are fixed for the tenant: refuse to store values that would be ignored anyway.
      const partner = await this.policies.find({ kind: policyKind, scope: 'PARTNER', scopeId: account.partnerId });
      const options = policyKind === 'EMAIL_SECURITY' ? EMAIL_SECURITY_OPTIONS : DATA_CONTROL_OPTIONS;
      const locked = options
        .filter((option) => getPath(dto.settings, option.path) !== undefined)
        .filter((option) => (partner?.locks ?? []).some((lock) => lockCovers(lock, option.path) || lockCovers(option.path, lock)));
      if (locked.length > 0) {
        throw new ApiProblem(
          409,
          ProblemCode.OptionLocked,
          'these options are locked by the partner admin',
          locked.map((option) => ({ field: `settings.${option.path}`, code: ProblemCode.OptionLocked, message: `${option.path} is locked by the partner admin` })),
        );
      }
    }
    const policy = await this.policies.put(
      { kind: policyKind, scope: SCOPE[scope], scopeId, accountId, partnerId: null, settings: dto.settings as Prisma.InputJsonValue, locks: dto.locks },
      actorOf(principal),
    );
    return toPolicyDto(policy);
  }

  /**
   * Adds one address to the account-level Email Security allow or block list, keeping every other stored setting and
   * lock; goes through {@link put}, so the change is validated, refused when the partner locked the list, and audited.
   */
  async addSenderToAccountList(principal: Principal, accountId: string, list: SenderList, address: string): Promise<PolicyDto> {
    const current = await this.policies.find({ kind: 'EMAIL_SECURITY', scope: 'ACCOUNT', scopeId: accountId });
    const settings = structuredClone((current?.accountId === accountId ? current.settings : {}) as Record<string, unknown>);
    const entry = (settings[list] ?? {}) as { addresses?: unknown };
    const addresses = Array.isArray(entry.addresses) ? (entry.addresses as string[]) : [];
    settings[list] = { ...entry, addresses: addresses.includes(address) ? addresses : [...addresses, address] };
    return this.put(principal, accountId, 'email-security', 'account', accountId, { settings, locks: current?.locks ?? [] });
  }

  async getPartner(principal: Principal, kind: KindParam): Promise<PolicyDto> {
    const policy = await this.policies.find({ kind: KIND[kind], scope: 'PARTNER', scopeId: principal.partnerId! });
    if (!policy) {
      throw new ApiProblem(404, ProblemCode.NotFound, `no ${kind} partner policy is stored`);
    }
    return toPolicyDto(policy);
  }

  /** Partner-wide settings and locks: the top layer of every account of the partner. */
  async putPartner(principal: Principal, kind: KindParam, dto: PutPolicyDto): Promise<PolicyDto> {
    const policyKind = KIND[kind];
    this.assertValid(policyKind, dto);
    const policy = await this.policies.put(
      { kind: policyKind, scope: 'PARTNER', scopeId: principal.partnerId!, accountId: null, partnerId: principal.partnerId, settings: dto.settings as Prisma.InputJsonValue, locks: dto.locks },
      actorOf(principal),
    );
    return toPolicyDto(policy);
  }

  /** The retention windows the purge applies to the account: its settings over the defaults, under the ceiling. */
  async effectiveRetention(principal: Principal, accountId: string): Promise<EffectiveRetentionDto> {
    const account = await this.access.account(principal, accountId);
    return { ...(await this.retentionOf(account)), emergencyInboxDays: this.config.EMERGENCY_INBOX_DAYS };
  }

  /** The account's retention windows as the purge applies them (libs/policy resolveRetention), in one query. */
  async retentionOf(account: { id: string; partnerId: string | null }): Promise<EffectiveRetention> {
    const stored = await this.policies.retentionSettings(account);
    return resolveRetention(stored.account as RetentionSettingsPatch | null, stored.partner as RetentionSettingsPatch | null, this.config.EMERGENCY_INBOX_DAYS);
  }

  /** Retention is set per account, and no window may exceed the partner's ceiling (whoever sets it). */
  private async assertRetentionAllowed(scope: ScopeParam, partnerId: string | null, dto: PutPolicyDto): Promise<void> {
    if (scope !== 'account') {
      throw new ApiProblem(400, ProblemCode.PolicyInvalid, 'retention is set per account (scope account)', [
        { field: 'scope', code: ProblemCode.PolicyInvalid, message: 'retention is set per account' },
      ]);
    }
    const partner = partnerId ? await this.policies.find({ kind: 'RETENTION', scope: 'PARTNER', scopeId: partnerId }) : null;
    const ceiling = retentionCeiling(partner?.settings as RetentionSettingsPatch | null);
    const above = retentionAboveCeiling(dto.settings as RetentionSettingsPatch, ceiling);
    if (above.length > 0) {
      throw new ApiProblem(
        409,
        ProblemCode.RetentionAboveCeiling,
        "these retention windows exceed the partner's ceiling",
        above.map((field) => ({ field: `settings.${field}`, code: ProblemCode.RetentionAboveCeiling, message: `${field} may be at most ${ceiling[field]} days` })),
      );
    }
  }

  /** The policy libs/policy resolves for one recipient, with each option's source and locks. */
  async effective(principal: Principal, accountId: string, recipient: string): Promise<EffectivePolicyDto> {
    const account = await this.access.account(principal, accountId);
    const context = await this.policies.recipientContext(accountId, recipient);
    const target: PolicyTarget = {
      partnerId: account.partnerId,
      accountId,
      domainId: context.domain?.id ?? null,
      groupIds: context.groups.map((group) => group.id),
      userId: context.user?.id ?? null,
    };
    const [emailRows, dataRows] = await Promise.all([
      this.policies.listForAccount('EMAIL_SECURITY', accountId, account.partnerId),
      this.policies.listForAccount('DATA_CONTROL', accountId, account.partnerId),
    ]);
    const emailSecurity = resolveEmailSecurityPolicy(buildPolicyLayers<EmailSecuritySettingsPatch>(emailRows, target));
    const dataControl = resolveDataControlPolicy(buildPolicyLayers<DataControlSettingsPatch>(dataRows, target));
    return {
      recipient: recipient.trim().toLowerCase(),
      target,
      emailSecurity: { settings: emailSecurity.settings, options: emailSecurity.options },
      dataControl: { settings: dataControl.settings, options: dataControl.options },
    };
  }

  private assertValid(kind: PolicyKind, dto: PutPolicyDto): void {
    const errors = validate(kind, dto);
    if (errors.length > 0) {
      throw new ApiProblem(400, ProblemCode.PolicyInvalid, `invalid policy: ${errors.map((error) => `${error.field}: ${error.message}`).join('; ')}`, errors);
    }
  }

  /** The scope object must belong to the account (any other id is simply not found). */
  private async assertScope(accountId: string, scope: ScopeParam, scopeId: string): Promise<void> {
    const found =
      scope === 'account'
        ? scopeId === accountId
        : scope === 'domain'
          ? (await this.policies.findDomain(accountId, scopeId)) !== null
          : scope === 'group'
            ? (await this.policies.findGroup(accountId, scopeId)) !== null
            : (await this.policies.findUser(accountId, scopeId)) !== null;
    if (!found) {
      throw ApiProblem.notFound(scope, scopeId);
    }
  }
}

import type { Account, Domain, MigrationKind } from '@mailwarden/db';
import { MigrationErrorCode, MigrationException } from '../mode-migration.errors';
import type { MigrationParams, StepDefinition } from '../migration-step.types';
import { normalizeHost } from '../checks/mx.check';
import { mailflowObjectNames } from '../mailflow/mailflow-objects';
import { advancedToMonitorOnlySteps } from './advanced-to-monitor-only.plan';
import { AUTOMATED_MAILFLOW_SETUP, gatewayToMailflowSteps, mailflowToGatewaySteps } from './gateway-to-mailflow.plan';
import { monitorOnlyToAdvancedSteps } from './monitor-only-to-advanced.plan';

export interface PlanMigrationInput {
  kind: MigrationKind;
  /** MONITOR_ONLY_TO_ADVANCED only: the mode the domains move to. */
  targetMode?: 'GATEWAY' | 'MAILFLOW';
  /** Domains to move; default: every domain the migration applies to. */
  domainIds?: string[];
  /** Mailwarden's MX host; required whenever a gateway domain is involved (default: the one the last plan used). */
  gatewayMxHost?: string;
  /** How long the old path must stay quiet before the wait steps pass (default 10 minutes; 0 to 7 days). */
  quietPeriodSeconds?: number;
}

/** Safe default of the wait steps: DNS caches and journal rule changes take minutes to settle. */
export const DEFAULT_QUIET_PERIOD_MS = 10 * 60_000;
const MAX_QUIET_PERIOD_SECONDS = 7 * 86_400;

const invalid = (message: string) => new MigrationException(MigrationErrorCode.InvalidPlan, message);

function pickDomains(all: Domain[], wanted: string[] | undefined, qualifies: (domain: Domain) => boolean, what: string): Domain[] {
  if (wanted === undefined) {
    return all.filter(qualifies);
  }
  const byId = new Map(all.map((domain) => [domain.id, domain]));
  return [...new Set(wanted)].map((id) => {
    const domain = byId.get(id);
    if (!domain) {
      throw invalid(`domain ${id} is not a domain of this account`);
    }
    if (!qualifies(domain)) {
      throw invalid(`domain ${domain.name} is not ${what}`);
    }
    return domain;
  });
}

/** The steps of a migration kind, for the stored parameters (pure). */
export function stepsFor(kind: MigrationKind, params: MigrationParams): StepDefinition[] {
  switch (kind) {
    case 'ADVANCED_TO_MONITOR_ONLY':
      return advancedToMonitorOnlySteps(params);
    case 'MONITOR_ONLY_TO_ADVANCED':
      return monitorOnlyToAdvancedSteps(params.targetMode ?? 'GATEWAY', params.mailflow && params.targetMode === 'MAILFLOW' ? AUTOMATED_MAILFLOW_SETUP : []);
    case 'GATEWAY_TO_MAILFLOW':
      return gatewayToMailflowSteps(params);
    case 'MAILFLOW_TO_GATEWAY':
      return mailflowToGatewaySteps(params);
  }
}

/**
 * Checks that the account can start the migration and fixes its parameters (DESIGN.md §2). Pure: the caller reads
 * the account with its domains under the account's lock.
 */
export function buildPlan(
  account: Pick<Account, 'monitorOnly'>,
  domains: Domain[],
  input: PlanMigrationInput,
  remembered: { gatewayMxHost?: string | null; defaultQuietPeriodMs?: number } = {},
  /** The account's Microsoft 365 tenant when Exchange automation is configured: the Exchange steps are automated. */
  mailflow: { accountId: string; tenantId: string } | null = null,
): { params: MigrationParams; steps: StepDefinition[] } {
  let chosen: Domain[];
  const params: MigrationParams = { domains: [] };
  const quietSeconds = input.quietPeriodSeconds;
  if (quietSeconds !== undefined && (!Number.isInteger(quietSeconds) || quietSeconds < 0 || quietSeconds > MAX_QUIET_PERIOD_SECONDS)) {
    throw invalid(`quietPeriodSeconds must be a whole number from 0 to ${MAX_QUIET_PERIOD_SECONDS}`);
  }
  params.quietPeriodMs = quietSeconds !== undefined ? quietSeconds * 1000 : (remembered.defaultQuietPeriodMs ?? DEFAULT_QUIET_PERIOD_MS);
  switch (input.kind) {
    case 'ADVANCED_TO_MONITOR_ONLY':
      if (account.monitorOnly) {
        throw new MigrationException(MigrationErrorCode.WrongStartingMode, 'the account is already monitor-only');
      }
      chosen = pickDomains(domains, input.domainIds, (domain) => domain.mode !== 'JOURNAL', 'in GATEWAY or MAILFLOW mode');
      if (input.domainIds !== undefined && chosen.length < domains.filter((domain) => domain.mode !== 'JOURNAL').length) {
        throw invalid('monitor-only allows JOURNAL mode only: every GATEWAY and MAILFLOW domain must be part of the plan');
      }
      break;
    case 'MONITOR_ONLY_TO_ADVANCED':
      if (!account.monitorOnly) {
        throw new MigrationException(MigrationErrorCode.WrongStartingMode, 'the account is not monitor-only');
      }
      if (input.targetMode !== 'GATEWAY' && input.targetMode !== 'MAILFLOW') {
        throw invalid('targetMode (GATEWAY or MAILFLOW) is required');
      }
      params.targetMode = input.targetMode;
      chosen = pickDomains(domains, input.domainIds, (domain) => domain.verificationStatus === 'VERIFIED' && domain.mode === 'JOURNAL', 'verified and in JOURNAL mode');
      if (chosen.length === 0) {
        throw invalid('no verified domain to move: add and verify a domain first');
      }
      break;
    case 'GATEWAY_TO_MAILFLOW':
      if (account.monitorOnly) {
        throw new MigrationException(MigrationErrorCode.WrongStartingMode, 'the account is monitor-only (no gateway domains)');
      }
      chosen = pickDomains(domains, input.domainIds, (domain) => domain.mode === 'GATEWAY', 'in GATEWAY mode');
      if (chosen.length === 0) {
        throw invalid('no domain in GATEWAY mode');
      }
      break;
    case 'MAILFLOW_TO_GATEWAY':
      if (account.monitorOnly) {
        throw new MigrationException(MigrationErrorCode.WrongStartingMode, 'the account is monitor-only (no mailflow domains)');
      }
      chosen = pickDomains(domains, input.domainIds, (domain) => domain.mode === 'MAILFLOW', 'in MAILFLOW mode');
      if (chosen.length === 0) {
        throw invalid('no domain in MAILFLOW mode');
      }
      break;
    default:
      throw invalid(`unknown migration kind ${String(input.kind)}`);
  }
  params.domains = chosen.map((domain) => ({ id: domain.id, name: domain.name, mode: domain.mode }));
  const touchesMailflow = chosen.some((domain) => domain.mode === 'MAILFLOW') || input.kind === 'GATEWAY_TO_MAILFLOW' || (input.kind === 'MONITOR_ONLY_TO_ADVANCED' && input.targetMode === 'MAILFLOW');
  if (mailflow && touchesMailflow) {
    params.mailflow = { tenantId: mailflow.tenantId, names: mailflowObjectNames(mailflow.accountId) };
  }
  const needsMxHost =
    chosen.some((domain) => domain.mode === 'GATEWAY') ||
    (input.kind === 'MONITOR_ONLY_TO_ADVANCED' && input.targetMode === 'GATEWAY') ||
    input.kind === 'MAILFLOW_TO_GATEWAY';
  if (needsMxHost) {
    // Asked once: a later plan of the account reuses the MX host its last plan named.
    const host = input.gatewayMxHost ?? remembered.gatewayMxHost ?? undefined;
    if (!host || !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+\.?$/i.test(host.trim())) {
      throw invalid('gatewayMxHost (the host name of Mailwarden\'s MX) is required when a gateway domain is involved');
    }
    params.gatewayMxHost = normalizeHost(host);
  }
  return { params, steps: stepsFor(input.kind, params) };
}

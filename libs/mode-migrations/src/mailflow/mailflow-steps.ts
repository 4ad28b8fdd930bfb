import type { MailflowObjectKind, Prisma } from '@mailwarden/db';
import { ExchangeOnlineError, type CmdletParameters, type ExchangeOnlineClient } from '@mailwarden/microsoft365';
import type { CheckResult, RemoteStepContext, StepDefinition } from '../migration-step.types';
import { names as planNames } from '../plans/plan-steps';
import {
  differingParameters,
  findMailflowConflicts,
  inboundConnectorParameters,
  outboundConnectorParameters,
  ownershipMark,
  transportRuleParameters,
} from './mailflow-objects';

type Noun = 'InboundConnector' | 'OutboundConnector' | 'TransportRule';
const KIND: Record<Noun, MailflowObjectKind> = { InboundConnector: 'INBOUND_CONNECTOR', OutboundConnector: 'OUTBOUND_CONNECTOR', TransportRule: 'TRANSPORT_RULE' };
type ExoObject = Record<string, unknown> & { Name?: string; Guid?: string };

/** The domains the plan protects, lower-case. */
const domainsOf = (context: RemoteStepContext) => planNames(context.params).map((name) => name.toLowerCase());

const ACCESS_HINT =
  "Mailwarden's app cannot manage Exchange Online in this tenant: a Global admin must grant the application permission Exchange.ManageAsApp (admin consent again) and assign the Exchange Administrator role to Mailwarden's service principal; then retry the step.";

/** An Exchange failure as the step's readable error (the cmdlet, Exchange's own message and exception type). */
function explain(error: unknown): Error {
  if (error instanceof ExchangeOnlineError) {
    return new Error(error.isAccessDenied ? `${error.cmdlet}: ${ACCESS_HINT} (${error.message})` : `${error.cmdlet} failed: ${error.message} (${error.type}, HTTP ${error.status})`);
  }
  return error as Error;
}

/**
 * Makes one named object exist with Mailwarden's parameters: found by name first (so a step re-run after a crash
 * between creating it and recording it adopts it instead of failing on "already exists"), created if missing,
 * corrected with Set- where a parameter differs; then recorded (Guid + parameters) for tamper detection and removal.
 */
async function ensureObject(context: RemoteStepContext, noun: Noun, desired: CmdletParameters): Promise<{ name: string; guid: string | null; action: 'created' | 'corrected' | 'unchanged'; corrected: string[] }> {
  const exchange = context.exchange;
  const name = String(desired.Name);
  let existing = await exchange.find<ExoObject>(noun, name);
  let action: 'created' | 'corrected' | 'unchanged' = 'unchanged';
  let corrected: string[] = [];
  const record = (guid: string | null) =>
    context.objects.record({
      accountId: context.account.id,
      tenantId: context.params.mailflow.tenantId,
      kind: KIND[noun],
      name,
      exchangeGuid: guid,
      parameters: desired as Prisma.InputJsonValue,
      migrationId: context.migrationId,
    });
  if (!existing) {
    // Recorded before it exists (Guid unknown yet): a crash right after New- still leaves the record, and removal
    // then recognises the object by its name and ownership mark.
    await record(null);
    try {
      existing = (await exchange.invoke<ExoObject>(`New-${noun}`, desired)).value[0] ?? (await exchange.find<ExoObject>(noun, name));
      action = 'created';
    } catch (error) {
      if (!(error instanceof ExchangeOnlineError && error.isAlreadyExists)) {
        throw error;
      }
      existing = await exchange.find<ExoObject>(noun, name); // created meanwhile by an earlier attempt of this step
    }
  }
  if (existing && action !== 'created') {
    corrected = differingParameters(existing, desired);
    const settable = corrected.filter((key) => key !== 'Priority' || noun === 'TransportRule');
    if (settable.length > 0) {
      await exchange.invoke(`Set-${noun}`, { Identity: name, ...Object.fromEntries(settable.map((key) => [key, desired[key]!])) });
      action = 'corrected';
    }
    if (noun === 'TransportRule' && existing.State === 'Disabled') {
      await exchange.invoke('Enable-TransportRule', { Identity: name });
      corrected.push('State');
      action = 'corrected';
    }
  }
  const guid = typeof existing?.Guid === 'string' ? existing.Guid : null;
  await record(guid);
  return { name, guid, action, corrected };
}

/**
 * Removes one object Mailwarden recorded, or (no record: a crash before recording) one carrying its name and its
 * ownership mark. An object of that name with another Guid, or without the mark, is the tenant's: left alone.
 */
async function removeObject(context: RemoteStepContext, noun: Noun, name: string): Promise<{ name: string; outcome: 'removed' | 'already-gone' | 'left-alone'; reason?: string }> {
  const record = (await context.objects.list(context.account.id)).find((row) => row.kind === KIND[noun] && row.name === name);
  const existing = await context.exchange.find<ExoObject>(noun, name);
  if (!existing) {
    await context.objects.remove(context.account.id, KIND[noun], name);
    return { name, outcome: 'already-gone' };
  }
  const mark = String(existing.Comment ?? existing.Comments ?? '');
  const ours = record?.exchangeGuid ? record.exchangeGuid === existing.Guid : mark === ownershipMark(context.account.id);
  if (!ours) {
    await context.objects.remove(context.account.id, KIND[noun], name);
    return { name, outcome: 'left-alone', reason: record?.exchangeGuid ? 'an object of that name with another Guid (not the one Mailwarden created)' : 'no Mailwarden ownership mark' };
  }
  await context.exchange.invoke(`Remove-${noun}`, { Identity: String(existing.Guid ?? name), Confirm: false });
  await context.objects.remove(context.account.id, KIND[noun], name);
  return { name, outcome: 'removed' };
}

const withExplainedErrors =
  <T>(work: (context: RemoteStepContext) => Promise<T>) =>
  async (context: RemoteStepContext): Promise<T> => {
    try {
      return await work(context);
    } catch (error) {
      throw explain(error);
    }
  };

/** The protected domains must be accepted domains of the tenant, or Exchange never handles their mail. */
export const checkAcceptedDomainsStep: StepDefinition = {
  key: 'copy-microsoft-365-domains',
  kind: 'MANUAL',
  instruction: (params) => `Make sure ${planNames(params).join(', ')} are accepted domains of the Microsoft 365 tenant (Mailwarden checks it).`,
  risk: 'Domains Exchange Online does not accept are not routed by the transport rule: their mail never reaches Mailwarden on this path.',
  async checkRemote(context): Promise<CheckResult> {
    try {
      const accepted = (await context.exchange.invoke<ExoObject>('Get-AcceptedDomain')).value.map((domain) => String(domain.DomainName ?? domain.Name ?? '').toLowerCase());
      const missing = domainsOf(context).filter((domain) => !accepted.includes(domain));
      return {
        passed: missing.length === 0,
        available: true,
        message: missing.length === 0 ? `accepted domains of the tenant: ${domainsOf(context).join(', ')}` : `not accepted domains of the tenant: ${missing.join(', ')} (Exchange admin center → Mail flow → Accepted domains)`,
        evidence: { check: 'accepted-domains', accepted, missing },
      };
    } catch (error) {
      return accessOrThrow(error, 'accepted-domains');
    }
  },
};

function accessOrThrow(error: unknown, check: string): CheckResult {
  if (error instanceof ExchangeOnlineError && error.isAccessDenied) {
    return { passed: false, available: true, message: ACCESS_HINT, evidence: { check, error: error.toJSON() } };
  }
  throw explain(error);
}

/** Reads the tenant's rules and connectors before anything is created; the admin decides about what it finds. */
export const detectConflictsStep: StepDefinition = {
  key: 'detect-mailflow-conflicts',
  kind: 'MANUAL',
  instruction: (params) =>
    [
      `Mailwarden reads the tenant's transport rules and connectors for rules that route, redirect or drop mail of ${planNames(params).join(', ')} and for connectors of the same domains.`,
      'If it finds any ("existing mail flow rules found"), the step waits: change or disable them in the Exchange admin center and retry, or advance with acknowledgeRisk=true to keep them. Mailwarden never changes, reorders or deletes them.',
    ].join('\n'),
  risk: "The reported rules and connectors stay: Mailwarden's rule goes first (priority 0), and the tenant's own rules still act on the same mail when it comes back from Mailwarden.",
  async checkRemote(context): Promise<CheckResult> {
    try {
      const [rules, inboundConnectors, outboundConnectors] = [
        (await context.exchange.invoke<ExoObject>('Get-TransportRule')).value,
        (await context.exchange.invoke<ExoObject>('Get-InboundConnector')).value,
        (await context.exchange.invoke<ExoObject>('Get-OutboundConnector')).value,
      ];
      const conflicts = findMailflowConflicts({ rules, inboundConnectors, outboundConnectors, domains: domainsOf(context), names: context.params.mailflow.names });
      return {
        passed: conflicts.length === 0,
        available: true,
        message:
          conflicts.length === 0
            ? `no transport rule or connector conflicts with routing ${domainsOf(context).join(', ')} through Mailwarden (${rules.length} rules, ${inboundConnectors.length + outboundConnectors.length} connectors read)`
            : `Existing mail flow rules found: ${conflicts.map((conflict) => conflict.description).join(' ')} Resolve them and retry, or acknowledge the risk to keep them.`,
        evidence: { check: 'mailflow-conflicts', conflicts: conflicts as unknown as Prisma.InputJsonValue, rulesRead: rules.length, connectorsRead: inboundConnectors.length + outboundConnectors.length },
      };
    } catch (error) {
      return accessOrThrow(error, 'mailflow-conflicts');
    }
  },
};

export const createConnectorsStep: StepDefinition = {
  key: 'create-mailflow-connectors',
  kind: 'AUTOMATED',
  instruction: () => null,
  runRemote: withExplainedErrors(async (context) => {
    const names = context.params.mailflow.names;
    const inbound = await ensureObject(context, 'InboundConnector', inboundConnectorParameters(context.settings, names, context.account.id));
    const outbound = await ensureObject(context, 'OutboundConnector', outboundConnectorParameters(context.settings, names, context.account.id));
    return { inbound, outbound, note: 'Exchange Online may take up to 10 minutes to use new connectors.' };
  }),
};

export const createRuleStep: StepDefinition = {
  key: 'create-mailflow-rule',
  kind: 'AUTOMATED',
  instruction: () => null,
  runRemote: withExplainedErrors(async (context) => {
    const parameters = transportRuleParameters(context.settings, context.params.mailflow.names, domainsOf(context), context.account.id);
    return { rule: await ensureObject(context, 'TransportRule', parameters), parameters: parameters as Prisma.InputJsonValue };
  }),
};

async function arcSealers(exchange: ExchangeOnlineClient): Promise<string[]> {
  const config = (await exchange.invoke<ExoObject>('Get-ArcConfig')).value[0] ?? {};
  const value = config.ArcTrustedSealers;
  return (Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : []).map((item) => String(item).trim()).filter(Boolean);
}

/** Adds the deployment's ARC sealing domain to the tenant's trusted ARC sealers, keeping the entries already there. */
export const trustArcSealerStep: StepDefinition = {
  key: 'trust-arc-sealer',
  kind: 'AUTOMATED',
  instruction: () => null,
  runRemote: withExplainedErrors(async (context) => {
    const domain = context.settings.arcSealDomain;
    if (!domain) {
      return { skipped: 'no ARC_SEAL_DOMAIN configured: the scanner does not ARC-seal, nothing to trust' };
    }
    const sealers = await arcSealers(context.exchange);
    if (sealers.some((sealer) => sealer.toLowerCase() === domain)) {
      // Already trusted before Mailwarden: not recorded, so leaving Mailflow does not remove the tenant's entry.
      const recorded = (await context.objects.list(context.account.id)).some((row) => row.kind === 'ARC_TRUSTED_SEALER' && row.name === domain);
      return { domain, added: false, alreadyTrusted: true, recordedAsOurs: recorded, sealers };
    }
    // Recorded first: a crash after Set-ArcConfig must not make the entry look like the tenant's own.
    await context.objects.record({
      accountId: context.account.id,
      tenantId: context.params.mailflow.tenantId,
      kind: 'ARC_TRUSTED_SEALER',
      name: domain,
      exchangeGuid: null,
      parameters: { ArcTrustedSealers: domain },
      migrationId: context.migrationId,
    });
    await context.exchange.invoke('Set-ArcConfig', { Identity: 'Default', ArcTrustedSealers: [...sealers, domain] });
    return { domain, added: true, sealers: [...sealers, domain] };
  }),
};

/**
 * Leaving Mailflow, first half: the transport rule (mail stops going to Mailwarden) and the outbound connector it
 * routes to. Only objects Mailwarden recorded (or marked) are removed; everything else of the tenant stays.
 */
export const removeRuleStep: StepDefinition = {
  key: 'remove-mailflow-rule',
  kind: 'AUTOMATED',
  instruction: () => null,
  runRemote: withExplainedErrors(async (context) => {
    const names = context.params.mailflow.names;
    return { rule: await removeObject(context, 'TransportRule', names.rule), outbound: await removeObject(context, 'OutboundConnector', names.outbound) };
  }),
};

/**
 * Leaving Mailflow, last half (after the connector path drained): the inbound connector mail came back through, and
 * the ARC sealer entry if Mailwarden added it (the other entries are kept).
 */
export const removeInboundStep: StepDefinition = {
  key: 'remove-inbound-connector',
  kind: 'AUTOMATED',
  instruction: () => null,
  runRemote: withExplainedErrors(async (context) => {
    const inbound = await removeObject(context, 'InboundConnector', context.params.mailflow.names.inbound);
    const sealer = (await context.objects.list(context.account.id)).find((row) => row.kind === 'ARC_TRUSTED_SEALER');
    let arc: Prisma.InputJsonValue = { removed: false };
    if (sealer) {
      const sealers = await arcSealers(context.exchange);
      const kept = sealers.filter((entry) => entry.toLowerCase() !== sealer.name.toLowerCase());
      if (kept.length !== sealers.length) {
        await context.exchange.invoke('Set-ArcConfig', { Identity: 'Default', ArcTrustedSealers: kept });
      }
      await context.objects.remove(context.account.id, 'ARC_TRUSTED_SEALER', sealer.name);
      arc = { removed: kept.length !== sealers.length, domain: sealer.name, kept };
    }
    return { inbound, arc };
  }),
};

/** The mailflow part of restoring mail routing: Mailwarden's transport rule is gone (the step before removed it). */
export async function checkRuleRemoved(recorded: Array<{ kind: string; name: string }>): Promise<CheckResult> {
  const left = recorded.filter((row) => row.kind === 'TRANSPORT_RULE' || row.kind === 'OUTBOUND_CONNECTOR');
  return {
    passed: left.length === 0,
    available: true,
    message: left.length === 0 ? "Mailwarden's transport rule and outbound connector are removed from Exchange Online" : `still recorded in Exchange Online: ${left.map((row) => row.name).join(', ')}`,
    evidence: { check: 'mailflow-rule-removed', left: left.map((row) => row.name) },
  };
}

import type { DomainMode, Prisma } from '@mailwarden/db';
import { journalSetupInstructions } from '../journal-setup';
import type { MigrationParams, StepContext, StepDefinition } from '../migration-step.types';

/** Domains of the plan that still belong to the account, in the plan's order. */
export function planDomains(context: StepContext): Array<{ id: string; name: string; mode: DomainMode }> {
  const current = new Map(context.account.domains.map((domain) => [domain.id, domain]));
  return context.params.domains.filter((domain) => current.has(domain.id)).map((domain) => ({ ...domain, mode: current.get(domain.id)!.mode }));
}

export const names = (params: MigrationParams, mode?: DomainMode): string[] =>
  params.domains.filter((domain) => mode === undefined || domain.mode === mode).map((domain) => domain.name);

/** Moves each plan domain to `mode` (already there: nothing to do). */
export function setDomainsModeStep(key: string, mode: DomainMode): StepDefinition {
  return {
    key,
    kind: 'AUTOMATED',
    instruction: () => null,
    async run(context): Promise<Prisma.InputJsonValue> {
      const changes: Array<{ domain: string; from: DomainMode; to: DomainMode }> = [];
      for (const domain of planDomains(context)) {
        if (domain.mode !== mode) {
          await context.setDomainMode(domain.id, mode);
          changes.push({ domain: domain.name, from: domain.mode, to: mode });
        }
      }
      return { mode, changed: changes, domains: planDomains(context).map((domain) => domain.name) };
    },
  };
}

export function setMonitorOnlyStep(key: string, monitorOnly: boolean): StepDefinition {
  return {
    key,
    kind: 'AUTOMATED',
    instruction: () => null,
    async run(context): Promise<Prisma.InputJsonValue> {
      const before = context.account.monitorOnly;
      if (before !== monitorOnly) {
        await context.setMonitorOnly(monitorOnly);
      }
      return { monitorOnly, changed: before !== monitorOnly };
    },
  };
}

export function journalInstruction(address: string): string {
  const steps = journalSetupInstructions(address);
  return [
    `Send journal copies of every message of the connected domains to ${address}.`,
    `Microsoft 365: ${steps.microsoft365.join(' ')}`,
    `Google Workspace: ${steps.googleWorkspace.join(' ')}`,
    'The step completes when a journal copy arrives after it started.',
  ].join('\n');
}

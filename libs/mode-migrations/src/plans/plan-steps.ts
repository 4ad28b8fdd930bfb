import type { DomainMode, Prisma } from '@mailwarden/db';
import { journalSetupInstructions } from '../journal-setup';
import type { MigrationParams, StepContext, StepDefinition } from '../migration-step.types';

/** Domains of the plan that still belong to the account, in the plan's order, with their current mode and transition. */
export function planDomains(context: StepContext): Array<{ id: string; name: string; mode: DomainMode; transitionMode: DomainMode | null; oldMode: DomainMode }> {
  const current = new Map(context.account.domains.map((domain) => [domain.id, domain]));
  return context.params.domains
    .filter((domain) => current.has(domain.id))
    .map((domain) => ({ id: domain.id, name: domain.name, oldMode: domain.mode, mode: current.get(domain.id)!.mode, transitionMode: current.get(domain.id)!.transitionMode }));
}

export const names = (params: MigrationParams, mode?: DomainMode): string[] =>
  params.domains.filter((domain) => mode === undefined || domain.mode === mode).map((domain) => domain.name);

type DomainChange = { mode?: DomainMode; transitionMode?: DomainMode | null };

/**
 * Changes each plan domain's mode and/or transition mode (`change` gets the domain with its old mode); a domain
 * already there is left alone, so a re-run changes nothing.
 */
export function changeDomainsStep(key: string, change: (domain: ReturnType<typeof planDomains>[number]) => DomainChange): StepDefinition {
  return {
    key,
    kind: 'AUTOMATED',
    instruction: () => null,
    async run(context): Promise<Prisma.InputJsonValue> {
      const changes: Array<{ domain: string; from: DomainChange; to: DomainChange }> = [];
      for (const domain of planDomains(context)) {
        const wanted = change(domain);
        const mode = wanted.mode ?? domain.mode;
        const transitionMode = wanted.transitionMode === undefined ? domain.transitionMode : wanted.transitionMode;
        if (mode !== domain.mode || transitionMode !== domain.transitionMode) {
          await context.setDomain(domain.id, { mode, transitionMode });
          changes.push({ domain: domain.name, from: { mode: domain.mode, transitionMode: domain.transitionMode }, to: { mode, transitionMode } });
        }
      }
      return { changed: changes, domains: planDomains(context).map((domain) => domain.name) };
    },
  };
}

/**
 * The overlap window opens: each domain also accepts mail on the path of `newMode` (its mode stays, and with it the
 * one path that decides and enforces), so mail that a changed MX or connector sends early is taken, not bounced.
 */
export const openOverlapStep = (newMode: DomainMode): StepDefinition =>
  changeDomainsStep('accept-mail-on-both-paths', (domain) => (domain.mode === newMode ? {} : { transitionMode: newMode }));

/**
 * The switch: each domain moves to `newMode` and keeps accepting on its old path until that path is drained. A
 * domain already in `newMode` is left alone (a re-run after a crash changes nothing).
 */
export const switchModeStep = (key: string, newMode: DomainMode): StepDefinition =>
  changeDomainsStep(key, (domain) => (domain.mode === newMode ? {} : { mode: newMode, transitionMode: domain.oldMode === newMode ? null : domain.oldMode }));

/** The overlap window closes once the old path was verified quiet (or that was acknowledged). */
export const closeOverlapStep = (): StepDefinition => changeDomainsStep('close-overlap-window', () => ({ transitionMode: null }));

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
    'The step completes when a journal copy of the domains being moved arrives after it (re)started.',
  ].join('\n');
}

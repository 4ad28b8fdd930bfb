import { checkJournalMessageSeen } from '../checks/journal.check';
import { checkMx } from '../checks/mx.check';
import { unavailableCheck } from '../checks/unavailable.check';
import type { CheckResult, MigrationPlanDefinition } from '../migration-step.types';
import { journalInstruction, names, setDomainsModeStep, setMonitorOnlyStep } from './plan-steps';

/** Advanced → monitor-only (DESIGN.md §2). */
export const ADVANCED_TO_MONITOR_ONLY_PLAN: MigrationPlanDefinition = {
  kind: 'ADVANCED_TO_MONITOR_ONLY',
  steps: [
    setDomainsModeStep('remove-domains-from-gateway-and-mailflow', 'JOURNAL'),
    {
      key: 'restore-mail-routing',
      kind: 'MANUAL',
      instruction(params) {
        const lines: string[] = [];
        const gateway = names(params, 'GATEWAY');
        const mailflow = names(params, 'MAILFLOW');
        if (gateway.length > 0) {
          lines.push(`Point the MX records of ${gateway.join(', ')} back at your mail host; they must no longer name ${params.gatewayMxHost}.`);
        }
        if (mailflow.length > 0) {
          lines.push(
            `In the Exchange admin center, remove the Mailwarden inbound and outbound connectors and the transport rule that routes ${mailflow.join(', ')} through Mailwarden.`,
          );
        }
        return lines.length > 0 ? lines.join('\n') : 'No domain was in gateway or mailflow mode: nothing to restore.';
      },
      async check(context): Promise<CheckResult> {
        const gateway = names(context.params, 'GATEWAY');
        const mailflow = names(context.params, 'MAILFLOW');
        const parts: CheckResult[] = [];
        if (gateway.length > 0) {
          parts.push(await checkMx(context.resolveDns, gateway, context.params.gatewayMxHost!, 'points-away'));
        }
        if (mailflow.length > 0) {
          parts.push(unavailableCheck('mailflow-removed', 'Mailwarden cannot read Exchange Online connectors yet (Microsoft 365 mailflow integration not built)'));
        }
        if (parts.length === 0) {
          return { passed: true, available: true, message: 'nothing to restore', evidence: { check: 'none' } };
        }
        return {
          passed: parts.every((part) => part.passed),
          available: parts.every((part) => part.available),
          message: parts.map((part) => part.message).join('; '),
          evidence: { checks: parts.map((part) => part.evidence) },
        };
      },
    },
    setMonitorOnlyStep('turn-monitor-only-on', true),
    setDomainsModeStep('add-domains-in-journal-mode', 'JOURNAL'),
    {
      key: 'complete-journal-setup',
      kind: 'MANUAL',
      instruction: (_params, address) => journalInstruction(address),
      check: checkJournalMessageSeen,
    },
  ],
};

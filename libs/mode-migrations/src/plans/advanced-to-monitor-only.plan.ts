import { checkJournalMessageSeen, checkPathQuiet } from '../checks/journal.check';
import { checkMx } from '../checks/mx.check';
import { unavailableCheck } from '../checks/unavailable.check';
import { checkRuleRemoved, removeInboundStep, removeRuleStep } from '../mailflow/mailflow-steps';
import type { CheckResult, MigrationParams, MigrationPlanDefinition, StepDefinition } from '../migration-step.types';
import { closeOverlapStep, journalInstruction, names, openOverlapStep, setMonitorOnlyStep, switchModeStep } from './plan-steps';

/** Advanced → monitor-only (DESIGN.md §2): journaling is proven and MX restored before the domains leave their mode. */
export const ADVANCED_TO_MONITOR_ONLY_PLAN: MigrationPlanDefinition = {
  kind: 'ADVANCED_TO_MONITOR_ONLY',
  steps: [
    openOverlapStep('JOURNAL'),
    {
      key: 'complete-journal-setup',
      kind: 'MANUAL',
      instruction: (_params, address) => journalInstruction(address),
      risk: 'Without journal copies, monitor-only sees nothing of these domains once the gateway or mailflow path is gone.',
      check: checkJournalMessageSeen,
    },
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
          lines.push(`In the Exchange admin center, remove the Mailwarden inbound and outbound connectors and the transport rule that routes ${mailflow.join(', ')} through Mailwarden.`);
        }
        lines.push('Mailwarden keeps accepting these domains on their old path until the plan closes the overlap window.');
        return lines.join('\n');
      },
      risk: 'Switching while MX still names Mailwarden is safe during the overlap window, but once the window closes mail still sent there is refused.',
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
        return {
          passed: parts.every((part) => part.passed),
          available: parts.every((part) => part.available),
          message: parts.map((part) => part.message).join('; '),
          evidence: { checks: parts.map((part) => part.evidence) },
        };
      },
    },
    switchModeStep('remove-domains-from-gateway-and-mailflow', 'JOURNAL'),
    setMonitorOnlyStep('turn-monitor-only-on', true),
    {
      key: 'wait-for-old-path-to-drain',
      kind: 'MANUAL',
      instruction: (params) =>
        `Nothing to do: the step completes once no message of ${names(params).join(', ')} has come through the MX gateway or the connector for the plan's quiet period (DNS caches expire).`,
      risk: 'Closing the overlap window while senders still use the old MX or connector makes Mailwarden refuse their mail.',
      check: (context) => checkPathQuiet(context, ['GATEWAY', 'MAILFLOW'], 'old-path-quiet', 'MX or the connector still sends mail of these domains to Mailwarden'),
    },
    closeOverlapStep(),
  ],
};

/**
 * Advanced → monitor-only with Exchange automated: Mailwarden removes its transport rule and outbound connector once
 * journaling is proven, checks them gone with the MX, and removes its inbound connector after the old path drained.
 */
export function advancedToMonitorOnlySteps(params: MigrationParams): StepDefinition[] {
  if (!params.mailflow || names(params, 'MAILFLOW').length === 0) {
    return ADVANCED_TO_MONITOR_ONLY_PLAN.steps;
  }
  const [open, journal, restore, switchStep, monitorOnly, drain, close] = ADVANCED_TO_MONITOR_ONLY_PLAN.steps;
  const restoreAutomated: StepDefinition = {
    ...restore!,
    instruction(plan) {
      const gateway = names(plan, 'GATEWAY');
      return [
        ...(gateway.length > 0 ? [`Point the MX records of ${gateway.join(', ')} back at your mail host; they must no longer name ${plan.gatewayMxHost}.`] : []),
        `Mailwarden removed its transport rule for ${names(plan, 'MAILFLOW').join(', ')} (step before); nothing else of the tenant was changed.`,
        'Mailwarden keeps accepting these domains on their old path until the plan closes the overlap window.',
      ].join('\n');
    },
    async check(context): Promise<CheckResult> {
      const gateway = names(context.params, 'GATEWAY');
      const parts: CheckResult[] = [];
      if (gateway.length > 0) {
        parts.push(await checkMx(context.resolveDns, gateway, context.params.gatewayMxHost!, 'points-away'));
      }
      parts.push(await checkRuleRemoved(await context.mailflowObjects()));
      return {
        passed: parts.every((part) => part.passed),
        available: true,
        message: parts.map((part) => part.message).join('; '),
        evidence: { checks: parts.map((part) => part.evidence) },
      };
    },
  };
  return [open!, journal!, removeRuleStep, restoreAutomated, switchStep!, monitorOnly!, drain!, removeInboundStep, close!];
}

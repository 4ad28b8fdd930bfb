import type { Prisma } from '@mailwarden/db';
import { checkJournalStopped } from '../checks/journal.check';
import { checkMx } from '../checks/mx.check';
import { unavailableCheck } from '../checks/unavailable.check';
import type { CheckResult, StepDefinition } from '../migration-step.types';
import { names, planDomains, setDomainsModeStep, setMonitorOnlyStep } from './plan-steps';

/** The last step depends on the target mode; the plan keeps one key per mode so an inspected plan says which. */
const completeGatewaySetup: StepDefinition = {
  key: 'complete-gateway-setup',
  kind: 'MANUAL',
  instruction: (params) =>
    [
      `Set each domain's downstream route (PUT /v1/accounts/{accountId}/domains/{domainId}/downstream): the host Mailwarden relays accepted mail to.`,
      `Point the MX records of ${names(params).join(', ')} at ${params.gatewayMxHost} (remove the other MX records).`,
      'The step completes when every domain has a downstream route and its MX names Mailwarden.',
    ].join('\n'),
  async check(context): Promise<CheckResult> {
    const missingRoute = context.account.domains.filter((domain) => names(context.params).includes(domain.name) && !domain.downstreamHost).map((domain) => domain.name);
    const mx = await checkMx(context.resolveDns, names(context.params), context.params.gatewayMxHost!, 'points-here');
    const passed = mx.passed && missingRoute.length === 0;
    return {
      passed,
      available: true,
      message: missingRoute.length > 0 ? `no downstream route for ${missingRoute.join(', ')}; ${mx.message}` : mx.message,
      evidence: { mx: mx.evidence, missingDownstreamRoute: missingRoute },
    };
  },
};

const completeMailflowSetup: StepDefinition = {
  key: 'complete-mailflow-setup',
  kind: 'MANUAL',
  instruction: (params) =>
    [
      `In the Exchange admin center, create the Mailwarden inbound and outbound connectors and a transport rule routing mail of ${names(params).join(', ')} through Mailwarden, with an exception for messages that already passed Mailwarden (loop prevention).`,
      'Then run a mailflow quick test.',
    ].join('\n'),
  check: async () => unavailableCheck('mailflow-quick-test', "the scanner's mailflow quick test is not built yet"),
};

/** Monitor-only → Advanced (DESIGN.md §2). */
export function monitorOnlyToAdvancedSteps(targetMode: 'GATEWAY' | 'MAILFLOW'): StepDefinition[] {
  return [
    {
      key: 'disconnect-domains-from-journaling',
      kind: 'AUTOMATED',
      instruction: () => null,
      async run(context): Promise<Prisma.InputJsonValue> {
        // Journal copies of these domains stop counting once their mode leaves JOURNAL; here we only make sure
        // every domain of the plan is still connected, verified and in JOURNAL mode, and record which ones move.
        const domains = planDomains(context);
        const current = new Map(context.account.domains.map((domain) => [domain.id, domain]));
        const unverified = domains.filter((domain) => current.get(domain.id)!.verificationStatus !== 'VERIFIED').map((domain) => domain.name);
        if (unverified.length > 0) {
          throw new Error(`domains not verified: ${unverified.join(', ')}`);
        }
        return { domains: domains.map((domain) => domain.name), journalAddress: context.journalAddress };
      },
    },
    {
      key: 'remove-journal-rules',
      kind: 'MANUAL',
      instruction: (_params, address) =>
        [
          `Microsoft 365: delete the journal rule that sends reports to ${address} (Purview → Data lifecycle management → Exchange (legacy) → Journal rules).`,
          `Google Workspace: remove the compliance / routing rule that delivers copies to ${address}.`,
          'The step completes once no journal copy has arrived for the quiet period after it started.',
        ].join('\n'),
      check: checkJournalStopped,
    },
    setMonitorOnlyStep('turn-monitor-only-off', false),
    setDomainsModeStep(targetMode === 'GATEWAY' ? 'add-domains-in-gateway-mode' : 'add-domains-in-mailflow-mode', targetMode),
    targetMode === 'GATEWAY' ? completeGatewaySetup : completeMailflowSetup,
  ];
}

import type { Prisma } from '@mailwarden/db';
import { checkConnectorRegistered } from '../checks/connector.check';
import { checkJournalStopped } from '../checks/journal.check';
import { checkMailflowQuickTest } from '../checks/mailflow-quick-test.check';
import { checkMx } from '../checks/mx.check';
import type { CheckResult, StepContext, StepDefinition } from '../migration-step.types';
import { names, openOverlapStep, planDomains, setMonitorOnlyStep, switchModeStep } from './plan-steps';

function missingDownstream(context: StepContext): string[] {
  return context.account.domains.filter((domain) => names(context.params).includes(domain.name) && !domain.downstreamHost).map((domain) => domain.name);
}

/** Gateway set up: every domain has a downstream route and its MX names Mailwarden. Shared with Mailflow → Gateway. */
export const completeGatewaySetup: StepDefinition = {
  key: 'complete-gateway-setup',
  kind: 'MANUAL',
  instruction: (params) =>
    [
      `Set each domain's downstream route (PUT /v1/accounts/{accountId}/domains/{domainId}/downstream): the host Mailwarden relays accepted mail to.`,
      `Point the MX records of ${names(params).join(', ')} at ${params.gatewayMxHost} (remove the other MX records).`,
      'Mailwarden already accepts these domains on its MX (the overlap window), so mail is taken as soon as MX changes.',
      'The step completes when every domain has a downstream route and its MX names Mailwarden.',
    ].join('\n'),
  risk: 'Switching before MX names Mailwarden leaves the old path in use: mail that does not reach Mailwarden is not scanned by the new mode until MX changes.',
  async check(context): Promise<CheckResult> {
    const missingRoute = missingDownstream(context);
    const mx = await checkMx(context.resolveDns, names(context.params), context.params.gatewayMxHost!, 'points-here');
    return {
      passed: mx.passed && missingRoute.length === 0,
      available: true,
      message: missingRoute.length > 0 ? `no downstream route for ${missingRoute.join(', ')}; ${mx.message}` : mx.message,
      evidence: { mx: mx.evidence, missingDownstreamRoute: missingRoute },
    };
  },
};

/** Mailflow set up: connector registered, downstream route set, and mail of the domains came through the connector. */
export const completeMailflowSetup: StepDefinition = {
  key: 'complete-mailflow-setup',
  kind: 'MANUAL',
  instruction: (params) =>
    [
      'Register the Microsoft 365 connector with Mailwarden (PUT /v1/accounts/{accountId}/mailflow-connector: its source IP ranges and/or TLS certificate name).',
      `Set each domain's downstream route: the Microsoft 365 inbound connector host Mailwarden relays to.`,
      `In the Exchange admin center, create the Mailwarden inbound and outbound connectors and a transport rule routing mail of ${names(params).join(', ')} through Mailwarden, whose only exception is "sender IP address is in" Mailwarden's scanner egress ranges (MAILFLOW_SCANNER_IP_RANGES; loop prevention). Never except by a header such as X-Mailwarden-Processed: any internet sender can add it and skip Mailwarden.`,
      'Then send a test message to a mailbox of these domains (the quick test): the step completes when it comes through the connector.',
    ].join('\n'),
  risk: 'Switching before mail comes through the connector means the new mode scans nothing until the transport rule routes mail to Mailwarden.',
  async check(context): Promise<CheckResult> {
    const connector = await checkConnectorRegistered(context);
    const missingRoute = missingDownstream(context);
    // The quick test (a real one through Exchange Online with a Microsoft 365 connection) once the rest is in place.
    const quickTest: CheckResult =
      connector.passed && missingRoute.length === 0
        ? await checkMailflowQuickTest(context)
        : { passed: false, available: true, message: 'quick test: waits for the connector and the downstream routes', evidence: { check: 'mailflow-quick-test', started: false } };
    const parts = [connector, quickTest];
    return {
      passed: connector.passed && quickTest.passed && missingRoute.length === 0,
      available: true,
      message: [...(missingRoute.length > 0 ? [`no downstream route for ${missingRoute.join(', ')}`] : []), ...parts.filter((part) => !part.passed).map((part) => part.message)].join('; ') || quickTest.message,
      evidence: { connector: connector.evidence, quickTest: quickTest.evidence, missingDownstreamRoute: missingRoute },
    };
  },
};

/** The same check once Mailwarden created the Exchange Online objects itself (the steps before it). */
const completeAutomatedMailflowSetup: StepDefinition = {
  ...completeMailflowSetup,
  instruction: () =>
    [
      'Register the Microsoft 365 connector with Mailwarden (PUT /v1/accounts/{accountId}/mailflow-connector: its source IP ranges and/or TLS certificate name).',
      `Set each domain's downstream route: the Microsoft 365 inbound connector host Mailwarden relays to.`,
      'Mailwarden created the Exchange Online connectors and the transport rule itself (steps above).',
      'Then send a test message to a mailbox of these domains (the quick test): the step completes when it comes through the connector.',
    ].join('\n'),
};

/** Monitor-only → Advanced (DESIGN.md §2): the new path is proven before the switch; journaling goes last. */
export function monitorOnlyToAdvancedSteps(targetMode: 'GATEWAY' | 'MAILFLOW', automated: StepDefinition[] = []): StepDefinition[] {
  return [
    openOverlapStep(targetMode),
    ...automated,
    targetMode === 'GATEWAY' ? completeGatewaySetup : automated.length > 0 ? completeAutomatedMailflowSetup : completeMailflowSetup,
    setMonitorOnlyStep('turn-monitor-only-off', false),
    switchModeStep(targetMode === 'GATEWAY' ? 'add-domains-in-gateway-mode' : 'add-domains-in-mailflow-mode', targetMode),
    {
      key: 'disconnect-domains-from-journaling',
      kind: 'AUTOMATED',
      instruction: () => null,
      // Journal copies of these domains are no longer scanned from here on (recorded as out of scope): the new
      // path scans their mail, and a journal rule left behind cannot make anything scanned twice.
      async run(context: StepContext): Promise<Prisma.InputJsonValue> {
        const disconnected: string[] = [];
        for (const domain of planDomains(context)) {
          if (domain.transitionMode === 'JOURNAL') {
            await context.setDomain(domain.id, { transitionMode: null });
            disconnected.push(domain.name);
          }
        }
        return { disconnected, journalAddress: context.journalAddress, journalCopies: 'recorded as out of scope for these domains from now on' };
      },
    },
    {
      key: 'remove-journal-rules',
      kind: 'MANUAL',
      instruction: (params, address) =>
        [
          `Microsoft 365: delete the journal rule that sends reports to ${address} (Purview → Data lifecycle management → Exchange (legacy) → Journal rules).`,
          `Google Workspace: remove the compliance / routing rule that delivers copies to ${address}.`,
          `The step completes once no journal copy of ${names(params).join(', ')} has arrived for the plan's quiet period after it (re)started.`,
        ].join('\n'),
      risk: 'Journal copies that still arrive are stored and recorded as out of scope: nothing is lost or scanned twice, they only use storage.',
      check: checkJournalStopped,
    },
  ];
}

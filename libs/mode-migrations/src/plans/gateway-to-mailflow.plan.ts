import { checkConnectorRegistered } from '../checks/connector.check';
import { checkPathQuiet } from '../checks/journal.check';
import { checkMailflowQuickTest } from '../checks/mailflow-quick-test.check';
import { checkMx } from '../checks/mx.check';
import { unavailableCheck } from '../checks/unavailable.check';
import { checkAcceptedDomainsStep, createConnectorsStep, createRuleStep, detectConflictsStep, removeInboundStep, removeRuleStep, trustArcSealerStep } from '../mailflow/mailflow-steps';
import type { MigrationParams, MigrationPlanDefinition, StepDefinition } from '../migration-step.types';
import { completeGatewaySetup } from './monitor-only-to-advanced.plan';
import { closeOverlapStep, names, openOverlapStep, switchModeStep } from './plan-steps';

const NO_M365 = 'Mailwarden cannot call Exchange Online yet (Microsoft 365 mailflow integration not built)';

/** Gateway → Mailflow (DESIGN.md §2): the gateway setup goes only after mail came through the connector. */
export const GATEWAY_TO_MAILFLOW_PLAN: MigrationPlanDefinition = {
  kind: 'GATEWAY_TO_MAILFLOW',
  steps: [
    openOverlapStep('MAILFLOW'),
    {
      key: 'copy-microsoft-365-domains',
      kind: 'MANUAL',
      instruction: (params) => `Make sure ${names(params).join(', ')} are accepted domains of the Microsoft 365 tenant that will route through Mailwarden.`,
      check: async () => unavailableCheck('microsoft-365-domains', NO_M365),
    },
    {
      key: 'connect-mailflow',
      kind: 'MANUAL',
      instruction: (params) =>
        [
          'Register the Microsoft 365 connector with Mailwarden (PUT /v1/accounts/{accountId}/mailflow-connector: its source IP ranges and/or TLS certificate name).',
          `In the Exchange admin center, create the Mailwarden inbound and outbound connectors and a transport rule routing mail of ${names(params).join(', ')} through Mailwarden, whose only exception is "sender IP address is in" Mailwarden's scanner egress ranges (MAILFLOW_SCANNER_IP_RANGES; loop prevention). Never except by a header such as X-Mailwarden-Processed: any internet sender can add it and skip Mailwarden.`,
          `In the Microsoft Defender portal (Email authentication settings → ARC), add Mailwarden's ARC sealing domain (ARC_SEAL_DOMAIN, README "ARC sealing") as a trusted ARC sealer, so mail whose Subject Mailwarden tagged keeps passing DMARC.`,
        ].join('\n'),
      risk: 'Without a registered connector Mailwarden cannot tell the connector from any other client: after the switch the connector path refuses these domains (4xx during the overlap window).',
      check: checkConnectorRegistered,
    },
    {
      key: 'mailflow-quick-test',
      kind: 'MANUAL',
      instruction: () =>
        'With a Microsoft 365 connection Mailwarden runs this itself: a test message goes into Exchange Online and is followed through the transport rule, Mailwarden and the inbound connector into the mailbox. Without one: send a test message to a mailbox of these domains; it must come through the connector and be scanned.',
      risk: 'Switching before any mail came through the connector: if the transport rule does not route, the new mode sees nothing once MX moves.',
      check: checkMailflowQuickTest,
    },
    switchModeStep('switch-domains-to-mailflow', 'MAILFLOW'),
    {
      key: 'remove-gateway-mx-records',
      kind: 'MANUAL',
      instruction: (params) => `Remove the MX records of ${names(params).join(', ')} that name ${params.gatewayMxHost}; keep Microsoft 365's own MX.`,
      risk: 'Mailwarden still accepts the MX path during the overlap window; once it closes, mail sent to the old MX is refused.',
      check: (context) => checkMx(context.resolveDns, names(context.params), context.params.gatewayMxHost!, 'points-away'),
    },
    {
      key: 'wait-for-old-path-to-drain',
      kind: 'MANUAL',
      instruction: (params) => `Nothing to do: the step completes once no message of ${names(params).join(', ')} has come through the MX gateway for the plan's quiet period.`,
      risk: 'Closing the overlap window while senders still use the old MX makes Mailwarden refuse their mail.',
      check: (context) => checkPathQuiet(context, ['GATEWAY'], 'old-path-quiet', 'MX records naming Mailwarden are still in use (DNS caches)'),
    },
    closeOverlapStep(),
  ],
};

/**
 * The Exchange Online setup Mailwarden runs itself for an account with a Microsoft 365 connection (queued steps):
 * accepted domains, conflicts (waits for the admin), connectors, the rule at priority 0, the trusted ARC sealer.
 */
export const AUTOMATED_MAILFLOW_SETUP: StepDefinition[] = [checkAcceptedDomainsStep, detectConflictsStep, createConnectorsStep, createRuleStep, trustArcSealerStep];

/** Registering the connector stays with the admin: it tells the scanner which client is Exchange Online. */
const registerConnector: StepDefinition = {
  key: 'connect-mailflow',
  kind: 'MANUAL',
  instruction: () =>
    'Register the Microsoft 365 connector with Mailwarden (PUT /v1/accounts/{accountId}/mailflow-connector: its source IP ranges and/or TLS certificate name). Mailwarden created the Exchange Online connectors and the transport rule itself (steps above).',
  risk: 'Without a registered connector Mailwarden cannot tell the connector from any other client: after the switch the connector path refuses these domains (4xx during the overlap window).',
  check: checkConnectorRegistered,
};

export function gatewayToMailflowSteps(params: MigrationParams): StepDefinition[] {
  if (!params.mailflow) {
    return GATEWAY_TO_MAILFLOW_PLAN.steps;
  }
  const [open, , , ...rest] = GATEWAY_TO_MAILFLOW_PLAN.steps;
  return [open!, ...AUTOMATED_MAILFLOW_SETUP, registerConnector, ...rest];
}

/** Mailflow → Gateway: MX is proven before the switch; the connector path drains last. */
export const MAILFLOW_TO_GATEWAY_PLAN: MigrationPlanDefinition = {
  kind: 'MAILFLOW_TO_GATEWAY',
  steps: [
    openOverlapStep('GATEWAY'),
    completeGatewaySetup,
    switchModeStep('switch-domains-to-gateway', 'GATEWAY'),
    {
      key: 'remove-mailflow-connectors',
      kind: 'MANUAL',
      instruction: (params) =>
        `In the Exchange admin center, remove the transport rule that routes ${names(params).join(', ')} through Mailwarden and the Mailwarden connectors. The step completes once no message of these domains has come through the connector for the plan's quiet period.`,
      risk: 'Closing the overlap window while the transport rule still routes mail through the connector makes Mailwarden refuse it.',
      check: (context) => checkPathQuiet(context, ['MAILFLOW'], 'old-path-quiet', 'the transport rule still routes these domains through Mailwarden'),
    },
    closeOverlapStep(),
  ],
};

/**
 * Mailflow → Gateway with Exchange automated: after the switch Mailwarden removes its transport rule and outbound
 * connector, waits until nothing comes through the connector path, then removes its inbound connector (mail it
 * still relays back needs it until then) and its ARC sealer entry.
 */
export function mailflowToGatewaySteps(params: MigrationParams): StepDefinition[] {
  if (!params.mailflow) {
    return MAILFLOW_TO_GATEWAY_PLAN.steps;
  }
  const [open, gateway, switchStep, , close] = MAILFLOW_TO_GATEWAY_PLAN.steps;
  return [
    open!,
    gateway!,
    switchStep!,
    removeRuleStep,
    {
      key: 'remove-mailflow-connectors',
      kind: 'MANUAL',
      instruction: (plan) => `Nothing to do: Mailwarden removed its transport rule; the step completes once no message of ${names(plan).join(', ')} has come through the connector for the plan's quiet period.`,
      risk: 'Removing the inbound connector while mail still comes back through it makes Exchange Online treat that mail as from an unknown host.',
      check: (context) => checkPathQuiet(context, ['MAILFLOW'], 'old-path-quiet', 'mail still comes through the connector'),
    },
    removeInboundStep,
    close!,
  ];
}

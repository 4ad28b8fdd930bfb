import { checkMx } from '../checks/mx.check';
import { unavailableCheck } from '../checks/unavailable.check';
import type { MigrationPlanDefinition } from '../migration-step.types';
import { names, setDomainsModeStep } from './plan-steps';

const NO_M365 = 'Mailwarden cannot call Exchange Online yet (Microsoft 365 mailflow integration not built)';

/** Gateway → Mailflow (DESIGN.md §2): the gateway setup goes only after the mailflow quick test. */
export const GATEWAY_TO_MAILFLOW_PLAN: MigrationPlanDefinition = {
  kind: 'GATEWAY_TO_MAILFLOW',
  steps: [
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
        `In the Exchange admin center, create the Mailwarden inbound and outbound connectors and a transport rule routing mail of ${names(params).join(', ')} through Mailwarden, with an exception for messages that already passed Mailwarden (loop prevention). ` +
        `Then, in the Microsoft Defender portal (Email authentication settings → ARC), add Mailwarden's ARC sealing domain (ARC_SEAL_DOMAIN, README "ARC sealing") as a trusted ARC sealer, so mail whose Subject Mailwarden tagged keeps passing DMARC.`,
      check: async () => unavailableCheck('mailflow-connectors', NO_M365),
    },
    {
      key: 'mailflow-quick-test',
      kind: 'MANUAL',
      instruction: () => 'Run the mailflow quick test: a message sent through the connectors must come back scanned.',
      check: async () => unavailableCheck('mailflow-quick-test', "the scanner's mailflow quick test is not built yet"),
    },
    setDomainsModeStep('switch-domains-to-mailflow', 'MAILFLOW'),
    {
      key: 'remove-gateway-mx-records',
      kind: 'MANUAL',
      instruction: (params) => `Remove the MX records of ${names(params).join(', ')} that name ${params.gatewayMxHost}; keep Microsoft 365's own MX.`,
      check: (context) => checkMx(context.resolveDns, names(context.params), context.params.gatewayMxHost!, 'points-away'),
    },
  ],
};

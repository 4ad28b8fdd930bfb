import type { CheckResult, StepContext } from '../migration-step.types';

/** Passes once the account's Microsoft 365 connector is registered (PUT /v1/accounts/{accountId}/mailflow-connector). */
export async function checkConnectorRegistered(context: StepContext): Promise<CheckResult> {
  const connector = await context.findConnector();
  const registered = !!connector && (connector.sourceIps.length > 0 || !!connector.tlsCertName);
  return {
    passed: registered,
    available: true,
    message: registered
      ? `connector registered: source ranges ${connector!.sourceIps.join(', ') || 'none'}; certificate name ${connector!.tlsCertName ?? 'none'}`
      : 'no Microsoft 365 connector registered: PUT /v1/accounts/{accountId}/mailflow-connector with its source IP ranges or TLS certificate name',
    evidence: { check: 'connector-registered', sourceIps: connector?.sourceIps ?? [], tlsCertName: connector?.tlsCertName ?? null },
  };
}

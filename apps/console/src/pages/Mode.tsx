import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../api/client';
import type { components } from '../api/schema';
import { DateTime, ErrorMessage, Page, useAccountId, useEnumLabel } from '../components/common';
import { useAccount } from '../components/Layout';
import { useSession } from '../session';

type Migration = components['schemas']['MigrationDto'];
type Step = components['schemas']['MigrationStepDto'];

/** Steps after which mail can be refused, held or stop arriving: the page warns before they run. */
const STOPS_MAIL = new Set([
  'turn-monitor-only-off',
  'add-domains-in-gateway-mode',
  'add-domains-in-mailflow-mode',
  'switch-domains-to-gateway',
  'switch-domains-to-mailflow',
  'remove-domains-from-gateway-and-mailflow',
  'close-overlap-window',
]);
const ACTIVE = new Set(['PLANNED', 'RUNNING', 'WAITING', 'FAILED']);

/** Automated (Mailwarden does it), checked (the admin does it, Mailwarden verifies), or waiting for the admin. */
function stepNature(step: Step): 'automated' | 'checked' | 'waiting' {
  if (step.kind === 'AUTOMATED') return 'automated';
  return step.status === 'WAITING_FOR_ADMIN' ? 'waiting' : 'checked';
}

function MigrationView({ migration, accountId }: { migration: Migration; accountId: string }) {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const { canChange } = useSession();
  const queryClient = useQueryClient();
  const [acknowledgeRisk, setAcknowledgeRisk] = useState(false);
  const [acknowledgeUnverifiable, setAcknowledgeUnverifiable] = useState(false);
  const done = migration.steps.filter((step) => step.status === 'DONE' || step.status === 'SKIPPED').length;
  const next = migration.steps.find((step) => step.status !== 'DONE' && step.status !== 'SKIPPED');
  const path = { accountId, migrationId: migration.id };
  const refresh = () => Promise.all([queryClient.invalidateQueries({ queryKey: ['migrations', accountId] }), queryClient.invalidateQueries({ queryKey: ['account', accountId] })]);
  const advance = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/accounts/{accountId}/mode-migrations/{migrationId}/advance', { params: { path }, body: { ...(acknowledgeRisk ? { acknowledgeRisk: true } : {}), ...(acknowledgeUnverifiable ? { acknowledgeUnverifiable: true } : {}) } })),
    onSettled: () => {
      setAcknowledgeRisk(false);
      setAcknowledgeUnverifiable(false);
      return refresh();
    },
  });
  const retry = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/accounts/{accountId}/mode-migrations/{migrationId}/retry', { params: { path }, body: {} })),
    onSettled: refresh,
  });
  const cancel = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/accounts/{accountId}/mode-migrations/{migrationId}/cancel', { params: { path } })),
    onSettled: refresh,
  });
  const active = ACTIVE.has(migration.status);
  // A manual step whose check Mailwarden cannot run (result.available false): the admin may confirm it by hand.
  const unverifiable = next?.kind === 'MANUAL' && (next.result as { available?: boolean } | null)?.available === false;
  return (
    <article className="card" data-testid="migration">
      <h2>{label('migrationKind', migration.kind)}</h2>
      <p>
        {t('mode.status')}: <strong data-testid="migration-status">{label('migrationStatus', migration.status)}</strong> · <DateTime value={migration.createdAt} />
      </p>
      <label className="progress-label">
        {t('mode.progress', { done, total: migration.steps.length })}
        <progress max={migration.steps.length} value={done} />
      </label>
      <ol className="steps">
        {migration.steps.map((step) => (
          <li key={step.key} className={`step ${step.status.toLowerCase()}`} data-testid={`step-${step.key}`}>
            <div className="step-head">
              <strong>{t(`mode.step.${step.key}`, { defaultValue: step.key })}</strong>
              <span className="pill">{t(`mode.nature.${stepNature(step)}`)}</span>
              <span className={`pill ${step.status.toLowerCase()}`}>{label('stepStatus', step.status)}</span>
            </div>
            {STOPS_MAIL.has(step.key) && step.status !== 'DONE' && step.status !== 'SKIPPED' && (
              <p className="warning" role="note">
                {t('mode.stopsMail')}
              </p>
            )}
            {step.instruction && <pre className="instruction">{step.instruction}</pre>}
            {step.lastError && <p className="error">{step.lastError}</p>}
            {step.result && (
              <details>
                <summary>{t('mode.result')}</summary>
                <pre>{JSON.stringify(step.result, null, 2)}</pre>
              </details>
            )}
          </li>
        ))}
      </ol>
      {canChange && active && (
        <div className="form-actions">
          {next && STOPS_MAIL.has(next.key) && (
            <p className="warning" role="alert">
              {t('mode.nextStopsMail', { step: t(`mode.step.${next.key}`, { defaultValue: next.key }) })}
            </p>
          )}
          {unverifiable && (
            <label className="check">
              <input type="checkbox" checked={acknowledgeUnverifiable} onChange={(event) => setAcknowledgeUnverifiable(event.target.checked)} />
              {t('mode.acknowledgeUnverifiable')}
            </label>
          )}
          {next?.kind === 'MANUAL' && !unverifiable && (
            <label className="check">
              <input type="checkbox" checked={acknowledgeRisk} onChange={(event) => setAcknowledgeRisk(event.target.checked)} />
              {t('mode.acknowledgeRisk')}
            </label>
          )}
          <button type="button" onClick={() => advance.mutate()} disabled={advance.isPending}>
            {next?.kind === 'MANUAL' ? t('mode.checkNow') : t('mode.runNext')}
          </button>
          <button type="button" className="secondary" onClick={() => retry.mutate()} disabled={retry.isPending}>
            {t('mode.retry')}
          </button>
          <button type="button" className="danger" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
            {t('mode.cancel')}
          </button>
        </div>
      )}
      <ErrorMessage error={advance.error ?? retry.error ?? cancel.error} />
    </article>
  );
}

function PlanForm({ accountId, monitorOnly }: { accountId: string; monitorOnly: boolean }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const domains = useQuery({
    queryKey: ['domains', accountId],
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/domains', { params: { path: { accountId }, query: { limit: 200 } } })),
  });
  const { register, handleSubmit } = useForm<{ targetMode: 'GATEWAY' | 'MAILFLOW'; domainIds: string[]; gatewayMxHost: string }>({
    defaultValues: { targetMode: 'GATEWAY', domainIds: [], gatewayMxHost: '' },
  });
  const plan = useMutation({
    mutationFn: async (values: { targetMode: 'GATEWAY' | 'MAILFLOW'; domainIds: string[]; gatewayMxHost: string }) =>
      unwrap(
        await api.POST('/v1/accounts/{accountId}/mode-migrations', {
          params: { path: { accountId } },
          body: monitorOnly
            ? { kind: 'MONITOR_ONLY_TO_ADVANCED', targetMode: values.targetMode, domainIds: values.domainIds, ...(values.gatewayMxHost ? { gatewayMxHost: values.gatewayMxHost } : {}) }
            : { kind: 'ADVANCED_TO_MONITOR_ONLY', domainIds: values.domainIds },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['migrations', accountId] }),
  });
  return (
    <form className="card" onSubmit={handleSubmit((values) => plan.mutate(values))} data-testid="plan-form">
      <h2>{monitorOnly ? t('mode.planToAdvanced') : t('mode.planToMonitorOnly')}</h2>
      <p>{monitorOnly ? t('mode.planToAdvancedHelp') : t('mode.planToMonitorOnlyHelp')}</p>
      {monitorOnly && (
        <fieldset>
          <legend>{t('mode.targetMode')}</legend>
          <label className="check">
            <input type="radio" value="GATEWAY" {...register('targetMode')} />
            {t('enums.domainMode.GATEWAY')}
          </label>
          <label className="check">
            <input type="radio" value="MAILFLOW" {...register('targetMode')} />
            {t('enums.domainMode.MAILFLOW')}
          </label>
        </fieldset>
      )}
      <fieldset>
        <legend>{t('mode.domains')}</legend>
        {domains.data?.items.map((domain) => (
          <label key={domain.id} className="check">
            <input type="checkbox" value={domain.id} {...register('domainIds')} />
            {domain.name}
          </label>
        ))}
      </fieldset>
      {monitorOnly && (
        <label>
          {t('mode.gatewayMxHost')}
          <input {...register('gatewayMxHost')} />
        </label>
      )}
      <button type="submit" disabled={plan.isPending}>
        {t('mode.plan')}
      </button>
      <ErrorMessage error={plan.error} />
    </form>
  );
}

export default function Mode() {
  const { t } = useTranslation();
  const accountId = useAccountId();
  const account = useAccount(accountId);
  const { canChange } = useSession();
  const migrations = useQuery({
    queryKey: ['migrations', accountId],
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/mode-migrations', { params: { path: { accountId }, query: { limit: 10 } } })),
  });
  const items = migrations.data?.items ?? [];
  const active = items.find((migration) => ACTIVE.has(migration.status));
  return (
    <Page title={t('mode.title')}>
      {account.data && (
        <p>
          {t('mode.current')}: <strong data-testid="account-mode">{account.data.monitorOnly ? t('mode.monitorOnly') : t('mode.enforcing')}</strong>
        </p>
      )}
      <ErrorMessage error={migrations.error} />
      {active && <MigrationView migration={active} accountId={accountId} />}
      {!active && canChange && account.data && <PlanForm accountId={accountId} monitorOnly={account.data.monitorOnly} />}
      {items
        .filter((migration) => migration !== active)
        .slice(0, 3)
        .map((migration) => (
          <MigrationView key={migration.id} migration={migration} accountId={accountId} />
        ))}
    </Page>
  );
}

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../../api/client';
import { QuickTest } from '../../components/QuickTest';
import type { components } from '../../api/schema';
import { DateTime, ErrorMessage, Num, Page, useAccountId } from '../../components/common';
import { useSession } from '../../session';

type SyncRun = components['schemas']['SyncRunDto'];
type ConsentUrl = components['schemas']['ConsentUrlDto'];
type ConnectionCheck = components['schemas']['ConnectionCheckDto'];
type Domain = components['schemas']['DomainDto'];
type Difference = components['schemas']['MailflowDifferenceDto'];

/** The connection: consent link, Microsoft tenant id, check. */
function Connection({ accountId }: { accountId: string }) {
  const { t } = useTranslation();
  const { canChange } = useSession();
  const queryClient = useQueryClient();
  const [link, setLink] = useState<ConsentUrl | null>(null);
  const [check, setCheck] = useState<ConnectionCheck | null>(null);
  const connection = useQuery({
    queryKey: ['m365', accountId],
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/integrations/microsoft365', { params: { path: { accountId } } })),
    // While the admin is on Microsoft's consent page, the connection is looked at again every 2 s.
    refetchInterval: (query) => (link && !query.state.data?.connected ? 2000 : false),
  });
  const consent = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/accounts/{accountId}/integrations/microsoft365/consent-url', { params: { path: { accountId } } })),
    onSuccess: setLink,
  });
  const runCheck = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/accounts/{accountId}/integrations/microsoft365/check', { params: { path: { accountId } } })),
    onSuccess: setCheck,
  });
  const disconnect = useMutation({
    mutationFn: async () => unwrap(await api.DELETE('/v1/accounts/{accountId}/integrations/microsoft365', { params: { path: { accountId } } })),
    onSuccess: () => {
      setLink(null);
      setCheck(null);
      return queryClient.invalidateQueries({ queryKey: ['m365', accountId] });
    },
  });
  const data = connection.data;
  return (
    <section className="card" data-testid="m365-connection" aria-labelledby="m365-connection-title">
      <h2 id="m365-connection-title">{t('integrations.m365.connection')}</h2>
      <ErrorMessage error={connection.error ?? consent.error ?? runCheck.error ?? disconnect.error} />
      {data && !data.appConfigured && (
        <p className="notice" data-testid="m365-not-configured">
          {t('integrations.m365.appNotConfigured')}
        </p>
      )}
      {data && (
        <dl className="facts">
          <dt>{t('integrations.m365.state')}</dt>
          <dd>
            <span className={`pill ${data.connected ? 'healthy' : 'pending'}`} data-testid="m365-state">
              {data.connected ? t('integrations.m365.connected') : t('integrations.m365.notConnected')}
            </span>
          </dd>
          <dt>{t('integrations.m365.tenantId')}</dt>
          <dd data-testid="m365-tenant-id">{data.tenantId ?? t('integrations.none')}</dd>
          <dt>{t('integrations.m365.consentedAt')}</dt>
          <dd>{data.consentedAt ? <DateTime value={data.consentedAt} /> : t('integrations.none')}</dd>
          <dt>{t('integrations.m365.lastSync')}</dt>
          <dd>{data.lastSyncAt ? <DateTime value={data.lastSyncAt} /> : t('integrations.never')}</dd>
        </dl>
      )}
      {data && !data.connected && <p className="hint">{t('integrations.m365.consentExplained')}</p>}
      {link && !data?.connected && (
        <div className="notice" data-testid="m365-consent-link">
          <p>
            <a href={link.url} target="_blank" rel="noreferrer">
              {t('integrations.m365.openConsent')}
            </a>
          </p>
          <p className="hint">
            {t('integrations.m365.linkExpires')} <DateTime value={link.expiresAt} />
          </p>
          <p className="hint">
            {t('integrations.m365.redirectUri')} <code>{link.redirectUri}</code>
          </p>
          <p role="status">{t('integrations.m365.waitingForConsent')}</p>
        </div>
      )}
      {check && (
        <div className={check.ok ? 'success' : 'error'} role="status" data-testid="m365-check">
          <p>{check.ok ? t('integrations.m365.checkOk') : check.missingPermission ? t('integrations.m365.checkMissingPermission', { permission: check.missingPermission }) : t('integrations.m365.checkFailed', { step: check.failedStep ?? '' })}</p>
          {!check.ok && check.message && (
            <p className="detail">
              {check.code ? `${check.code}: ` : ''}
              {check.message}
            </p>
          )}
        </div>
      )}
      {canChange && data && (
        <div className="form-actions">
          {data.appConfigured && (
            <button type="button" onClick={() => consent.mutate()} disabled={consent.isPending}>
              {data.connected ? t('integrations.m365.reconnect') : t('integrations.m365.connect')}
            </button>
          )}
          {data.connected && (
            <button type="button" className="secondary" onClick={() => runCheck.mutate()} disabled={runCheck.isPending}>
              {t('integrations.m365.check')}
            </button>
          )}
          {data.connected && (
            <button type="button" className="danger" onClick={() => window.confirm(t('integrations.m365.disconnectConfirm')) && disconnect.mutate()}>
              {t('integrations.m365.disconnect')}
            </button>
          )}
        </div>
      )}
    </section>
  );
}

function syncRunning(runs: SyncRun[] | undefined): boolean {
  return Boolean(runs?.some((run) => run.status === 'QUEUED' || run.status === 'RUNNING'));
}

/** Directory sync: the runs with their counts, and a run now. */
function DirectorySync({ accountId, connected }: { accountId: string; connected: boolean }) {
  const { t } = useTranslation();
  const { canChange } = useSession();
  const queryClient = useQueryClient();
  const runs = useQuery({
    queryKey: ['m365-syncs', accountId],
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/integrations/microsoft365/directory-syncs', { params: { path: { accountId }, query: { limit: 10 } } })),
    refetchInterval: (query) => (syncRunning(query.state.data?.items) ? 1500 : false),
  });
  const runNow = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/accounts/{accountId}/integrations/microsoft365/directory-syncs', { params: { path: { accountId } } })),
    onSuccess: () => Promise.all([queryClient.invalidateQueries({ queryKey: ['m365-syncs', accountId] }), queryClient.invalidateQueries({ queryKey: ['m365', accountId] })]),
  });
  const items = runs.data?.items ?? [];
  return (
    <section className="card" data-testid="m365-directory" aria-labelledby="m365-directory-title">
      <h2 id="m365-directory-title">{t('integrations.m365.directory')}</h2>
      <p className="hint">{t('integrations.m365.directoryExplained')}</p>
      <ErrorMessage error={runs.error ?? runNow.error} />
      {canChange && connected && (
        <div className="form-actions">
          <button type="button" onClick={() => runNow.mutate()} disabled={runNow.isPending || syncRunning(items)}>
            {t('integrations.m365.runSync')}
          </button>
        </div>
      )}
      {items.length === 0 ? (
        <p className="muted">{t('integrations.m365.noSyncs')}</p>
      ) : (
        <table className="grid" data-testid="m365-syncs">
          <caption className="visually-hidden">{t('integrations.m365.directory')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('integrations.m365.started')}</th>
              <th scope="col">{t('integrations.m365.trigger')}</th>
              <th scope="col">{t('integrations.status')}</th>
              <th scope="col">{t('integrations.m365.mailboxes')}</th>
              <th scope="col">{t('integrations.m365.groups')}</th>
              <th scope="col">{t('integrations.m365.memberships')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((run) => (
              <tr key={run.id}>
                <td>
                  <DateTime value={run.createdAt} />
                </td>
                <td>
                  {t(`integrations.m365.triggers.${run.trigger}`)}
                  {run.fullSync ? ` · ${t('integrations.m365.fullSync')}` : ''}
                </td>
                <td>
                  <span className={`pill ${run.status === 'FAILED' ? 'failed' : run.status === 'SUCCEEDED' ? 'done' : 'pending'}`}>{t(`integrations.m365.syncStatus.${run.status}`)}</span>
                  {run.error && <p className="detail">{t('integrations.m365.syncFailed', { error: run.error })}</p>}
                </td>
                <td>{t('integrations.m365.counts', { added: run.mailboxesAdded, updated: run.mailboxesUpdated, removed: run.mailboxesRemoved })}</td>
                <td>{t('integrations.m365.counts', { added: run.groupsAdded, updated: run.groupsUpdated, removed: run.groupsRemoved })}</td>
                <td className="num">
                  <Num value={run.membershipsSet} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Differences({ differences }: { differences: Difference[] }) {
  const { t } = useTranslation();
  if (differences.length === 0) return null;
  return (
    <ul className="checks">
      {differences.map((difference, index) => (
        <li key={`${difference.kind}-${difference.name}-${index}`}>
          <strong>{t(`integrations.mailflow.problems.${difference.problem}`, { kind: t(`integrations.mailflow.kinds.${difference.kind}`), name: difference.name })}</strong>
          <span className="detail"> {difference.description}</span>
        </li>
      ))}
    </ul>
  );
}

/** Mailflow mode (Microsoft 365 connectors): each domain's health, tamper alerts and checks, the quick test. */
function Mailflow({ accountId, domains }: { accountId: string; domains: Domain[] }) {
  const { t } = useTranslation();
  const { canChange } = useSession();
  const queryClient = useQueryClient();
  const [checkQueued, setCheckQueued] = useState(false);
  const health = useQuery({
    queryKey: ['mailflow-health', accountId],
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/mailflow/health', { params: { path: { accountId } } })),
    refetchInterval: checkQueued ? 2000 : false,
  });
  const alerts = useQuery({
    queryKey: ['mailflow-alerts', accountId],
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/mailflow/alerts', { params: { path: { accountId }, query: { limit: 20 } } })),
    refetchInterval: checkQueued ? 2000 : false,
  });
  const tamperCheck = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/accounts/{accountId}/mailflow/tamper-checks', { params: { path: { accountId } } })),
    onSuccess: () => setCheckQueued(true),
  });
  const { register, handleSubmit } = useForm({ values: { host: health.data?.exchangeSmtpHost ?? '' } });
  const endpoint = useMutation({
    mutationFn: async (host: string) =>
      unwrap(await api.PUT('/v1/accounts/{accountId}/mailflow/exchange-endpoint', { params: { path: { accountId } }, body: { exchangeSmtpHost: host.trim() === '' ? null : host.trim() } })),
    onSuccess: (data) => queryClient.setQueryData(['mailflow-health', accountId], data),
  });
  const byName = (health.data?.domains ?? {}) as Record<string, components['schemas']['DomainMailflowHealthDto'] | null>;
  return (
    <section className="card" data-testid="mailflow" aria-labelledby="mailflow-title">
      <h2 id="mailflow-title">{t('integrations.mailflow.title')}</h2>
      <p className="hint">{t('integrations.mailflow.explained')}</p>
      <ErrorMessage error={health.error ?? alerts.error ?? tamperCheck.error ?? endpoint.error} />
      <table className="grid" data-testid="mailflow-health">
        <caption className="visually-hidden">{t('integrations.mailflow.health')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('integrations.mailflow.domain')}</th>
            <th scope="col">{t('integrations.mailflow.health')}</th>
            <th scope="col">{t('integrations.mailflow.lastChecked')}</th>
            {canChange && <th scope="col">{t('integrations.mailflow.quickTestColumn')}</th>}
          </tr>
        </thead>
        <tbody>
          {domains.map((domain) => {
            const state = byName[domain.name] ?? null;
            return (
              <tr key={domain.id}>
                <th scope="row">{domain.name}</th>
                <td>
                  <span className={`pill ${state ? state.status.toLowerCase() : 'pending'}`}>{state ? t(`integrations.mailflow.status.${state.status}`) : t('integrations.mailflow.neverChecked')}</span>
                  {state && <Differences differences={state.differences} />}
                </td>
                <td>{state ? <DateTime value={state.lastCheckedAt} /> : t('integrations.never')}</td>
                {canChange && (
                  <td>
                    <QuickTest accountId={accountId} domain={domain} />
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      {canChange && (
        <div className="form-actions">
          <button type="button" className="secondary" onClick={() => tamperCheck.mutate()} disabled={tamperCheck.isPending}>
            {t('integrations.mailflow.checkNow')}
          </button>
          {checkQueued && <span role="status">{t('integrations.mailflow.checkQueued')}</span>}
        </div>
      )}
      <form className="inline-form" onSubmit={handleSubmit((values) => endpoint.mutate(values.host))}>
        <label>
          {t('integrations.mailflow.exchangeHost')}
          <input {...register('host')} placeholder={t('integrations.mailflow.exchangeHostPlaceholder')} disabled={!canChange} />
        </label>
        {canChange && <button type="submit">{t('integrations.save')}</button>}
      </form>
      <h3>{t('integrations.mailflow.alerts')}</h3>
      {(alerts.data?.items.length ?? 0) === 0 ? (
        <p className="muted">{t('integrations.mailflow.noAlerts')}</p>
      ) : (
        <ul className="timeline" data-testid="mailflow-alerts">
          {alerts.data!.items.map((alert) => (
            <li key={alert.id}>
              <DateTime value={alert.createdAt} /> <strong>{t(`integrations.mailflow.alertKinds.${alert.kind}`, { domains: alert.domains.join(', ') })}</strong>
              <Differences differences={alert.differences} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export default function Microsoft365() {
  const { t } = useTranslation();
  const accountId = useAccountId();
  const connection = useQuery({
    queryKey: ['m365', accountId],
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/integrations/microsoft365', { params: { path: { accountId } } })),
  });
  const domains = useQuery({
    queryKey: ['domains', accountId],
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/domains', { params: { path: { accountId }, query: { limit: 200 } } })),
  });
  const mailflowDomains = (domains.data?.items ?? []).filter((domain) => domain.mode === 'MAILFLOW' || domain.transitionMode === 'MAILFLOW');
  return (
    <Page title={t('integrations.m365.title')}>
      <section className="card" aria-labelledby="m365-automated-title">
        <h2 id="m365-automated-title">{t('integrations.m365.automated')}</h2>
        <ul>
          <li>{t('integrations.m365.automatedSync')}</li>
          <li>{t('integrations.m365.automatedTamper')}</li>
          <li>{t('integrations.m365.manualConsent')}</li>
        </ul>
      </section>
      <Connection accountId={accountId} />
      <DirectorySync accountId={accountId} connected={connection.data?.connected === true} />
      {mailflowDomains.length > 0 && <Mailflow accountId={accountId} domains={mailflowDomains} />}
    </Page>
  );
}

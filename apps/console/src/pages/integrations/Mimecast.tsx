import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { api, ApiError, unwrap } from '../../api/client';
import type { components } from '../../api/schema';
import { DateTime, ErrorMessage, Page, useAccountId } from '../../components/common';
import { Pager } from '../../components/DataTable';
import { useSession } from '../../session';

type Connection = components['schemas']['MimecastConnectionDto'];
type TestResult = components['schemas']['MimecastTestResultDto'];

/** MITRE ATT&CK's page of a technique: T1598.003 → https://attack.mitre.org/techniques/T1598/003/ */
export function mitreUrl(id: string): string {
  return `https://attack.mitre.org/techniques/${id.replace('.', '/')}/`;
}

interface FormValues {
  apiVersion: 'V1' | 'V2';
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  appId: string;
  appKey: string;
  accessKey: string;
  secretKey: string;
  enabled: boolean;
  pollIntervalSeconds: number;
}

/** Settings: credentials are write-only (never shown back), so every save sends them again. */
function SettingsForm({ accountId, connection, onDone }: { accountId: string; connection: Connection | null; onDone: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const { register, handleSubmit, watch } = useForm<FormValues>({
    defaultValues: {
      apiVersion: connection?.apiVersion ?? 'V2',
      baseUrl: connection?.baseUrl ?? 'https://api.services.mimecast.com',
      clientId: '',
      clientSecret: '',
      appId: '',
      appKey: '',
      accessKey: '',
      secretKey: '',
      enabled: connection?.enabled ?? true,
      pollIntervalSeconds: connection?.pollIntervalSeconds ?? 300,
    },
  });
  const version = watch('apiVersion');
  const save = useMutation({
    mutationFn: async (values: FormValues) => {
      const credentials: Record<string, string> =
        values.apiVersion === 'V2' ? { clientId: values.clientId, clientSecret: values.clientSecret } : { appId: values.appId, appKey: values.appKey, accessKey: values.accessKey, secretKey: values.secretKey };
      return unwrap(
        await api.PUT('/v1/accounts/{accountId}/integrations/mimecast', {
          params: { path: { accountId } },
          body: { apiVersion: values.apiVersion, baseUrl: values.baseUrl.trim(), credentials, enabled: values.enabled, pollIntervalSeconds: Number(values.pollIntervalSeconds) },
        }),
      );
    },
    onSuccess: (data) => {
      queryClient.setQueryData(['mimecast', accountId], data);
      onDone();
    },
  });
  const secret = (name: keyof FormValues, label: string) => (
    <label key={name}>
      {label}
      <input type="password" autoComplete="off" {...register(name, { required: true })} />
    </label>
  );
  return (
    <form className="card" data-testid="mimecast-form" onSubmit={handleSubmit((values) => save.mutate(values))} aria-labelledby="mimecast-form-title">
      <h2 id="mimecast-form-title">{connection ? t('integrations.mimecast.change') : t('integrations.mimecast.setUp')}</h2>
      <p className="hint">{t('integrations.mimecast.writeOnly')}</p>
      <div className="filters">
        <label>
          {t('integrations.mimecast.apiVersion')}
          <select {...register('apiVersion')}>
            <option value="V2">{t('integrations.mimecast.v2')}</option>
            <option value="V1">{t('integrations.mimecast.v1')}</option>
          </select>
        </label>
        <label>
          {t('integrations.mimecast.baseUrl')}
          <input type="url" {...register('baseUrl', { required: true })} />
        </label>
        {version === 'V2'
          ? [secret('clientId', t('integrations.mimecast.clientId')), secret('clientSecret', t('integrations.mimecast.clientSecret'))]
          : [
              secret('appId', t('integrations.mimecast.appId')),
              secret('appKey', t('integrations.mimecast.appKey')),
              secret('accessKey', t('integrations.mimecast.accessKey')),
              secret('secretKey', t('integrations.mimecast.secretKey')),
            ]}
        <label>
          {t('integrations.mimecast.pollInterval')}
          <input type="number" min={60} {...register('pollIntervalSeconds', { valueAsNumber: true })} />
        </label>
        <label className="check">
          <input type="checkbox" {...register('enabled')} />
          {t('integrations.mimecast.enabled')}
        </label>
      </div>
      <ErrorMessage error={save.error} />
      <div className="form-actions">
        <button type="submit" disabled={save.isPending}>
          {t('integrations.save')}
        </button>
        {connection && (
          <button type="button" className="secondary" onClick={onDone}>
            {t('integrations.cancel')}
          </button>
        )}
      </div>
    </form>
  );
}

function Alerts({ accountId, polled }: { accountId: string; polled: string | null }) {
  const { t } = useTranslation();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors.at(-1) ?? undefined;
  const alerts = useQuery({
    queryKey: ['mimecast-alerts', accountId, cursor, polled],
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/integrations/mimecast/alerts', { params: { path: { accountId }, query: { limit: 25, cursor } } })),
  });
  const items = alerts.data?.items ?? [];
  return (
    <section className="card" aria-labelledby="mimecast-alerts-title">
      <h2 id="mimecast-alerts-title">{t('integrations.mimecast.alerts')}</h2>
      <ErrorMessage error={alerts.error} />
      {items.length === 0 ? (
        <p className="muted">{t('integrations.mimecast.noAlerts')}</p>
      ) : (
        <table className="grid" data-testid="mimecast-alerts">
          <caption className="visually-hidden">{t('integrations.mimecast.alerts')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('integrations.mimecast.occurred')}</th>
              <th scope="col">{t('integrations.mimecast.alertType')}</th>
              <th scope="col">{t('integrations.mimecast.technique')}</th>
              <th scope="col">{t('integrations.mimecast.sender')}</th>
              <th scope="col">{t('integrations.mimecast.recipient')}</th>
              <th scope="col">{t('integrations.mimecast.subject')}</th>
            </tr>
          </thead>
          <tbody>
            {items.map((alert) => (
              <tr key={alert.id}>
                <td>
                  <DateTime value={alert.occurredAt} />
                </td>
                <td>
                  {alert.alertType}
                  <span className="detail"> {alert.logType}</span>
                </td>
                <td>
                  {alert.mitreId ? (
                    <a href={mitreUrl(alert.mitreId)} target="_blank" rel="noreferrer">
                      {alert.mitreId} {alert.mitreName}
                    </a>
                  ) : (
                    t('integrations.mimecast.noTechnique')
                  )}
                </td>
                <td>{alert.sender}</td>
                <td>{alert.recipient}</td>
                <td>
                  {alert.subject ?? ''}
                  {alert.url && <div className="detail">{alert.url}</div>}
                  {alert.fileName && <div className="detail">{alert.fileName}</div>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager cursors={cursors} setCursors={setCursors} nextCursor={alerts.data?.nextCursor} />
    </section>
  );
}

export default function Mimecast() {
  const { t } = useTranslation();
  const accountId = useAccountId();
  const { canChange } = useSession();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [tested, setTested] = useState<TestResult | null>(null);
  const connection = useQuery({
    queryKey: ['mimecast', accountId],
    queryFn: async () => {
      try {
        return unwrap(await api.GET('/v1/accounts/{accountId}/integrations/mimecast', { params: { path: { accountId } } }));
      } catch (error) {
        // 404: no connection yet.
        if (error instanceof ApiError && error.problem.status === 404) return null;
        throw error;
      }
    },
    // The scanner polls Mimecast on its own: the last poll time (and so the alerts) refresh every 5 s.
    refetchInterval: 5000,
  });
  const test = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/accounts/{accountId}/integrations/mimecast/test', { params: { path: { accountId } } })),
    onSuccess: setTested,
  });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE('/v1/accounts/{accountId}/integrations/mimecast', { params: { path: { accountId } } })),
    onSuccess: () => {
      setTested(null);
      queryClient.setQueryData(['mimecast', accountId], null);
    },
  });
  const data = connection.data ?? null;
  return (
    <Page title={t('integrations.mimecast.title')}>
      <p className="hint">{t('integrations.mimecast.explained')}</p>
      <ErrorMessage error={connection.error ?? test.error ?? remove.error} />
      {connection.isSuccess && !data && !canChange && <p className="muted">{t('integrations.mimecast.notConfigured')}</p>}
      {connection.isSuccess && canChange && (!data || editing) && <SettingsForm accountId={accountId} connection={data} onDone={() => setEditing(false)} />}
      {data && !editing && (
        <section className="card" data-testid="mimecast-connection" aria-labelledby="mimecast-connection-title">
          <h2 id="mimecast-connection-title">{t('integrations.mimecast.connection')}</h2>
          <dl className="facts">
            <dt>{t('integrations.status')}</dt>
            <dd>
              <span className={`pill ${data.enabled ? 'healthy' : 'pending'}`}>{data.enabled ? t('integrations.mimecast.polling') : t('integrations.mimecast.paused')}</span>
            </dd>
            <dt>{t('integrations.mimecast.apiVersion')}</dt>
            <dd>{data.apiVersion === 'V2' ? t('integrations.mimecast.v2') : t('integrations.mimecast.v1')}</dd>
            <dt>{t('integrations.mimecast.baseUrl')}</dt>
            <dd>
              <code>{data.baseUrl}</code>
            </dd>
            <dt>{t('integrations.mimecast.credentials')}</dt>
            <dd>{t('integrations.mimecast.credentialsHidden')}</dd>
            <dt>{t('integrations.mimecast.pollInterval')}</dt>
            <dd>{t('integrations.mimecast.everySeconds', { count: data.pollIntervalSeconds })}</dd>
            <dt>{t('integrations.mimecast.lastPolled')}</dt>
            <dd data-testid="mimecast-last-polled">{data.lastPolledAt ? <DateTime value={data.lastPolledAt} /> : t('integrations.never')}</dd>
          </dl>
          {tested && (
            <div className={tested.ok ? 'success' : 'error'} role="status" data-testid="mimecast-test">
              <p>{tested.ok ? t('integrations.mimecast.testOk') : t(`integrations.mimecast.testCodes.${tested.code ?? 'internal'}`, { defaultValue: t('integrations.mimecast.testFailed') })}</p>
              {!tested.ok && tested.message && <p className="detail">{tested.message}</p>}
            </div>
          )}
          {canChange && (
            <div className="form-actions">
              <button type="button" onClick={() => test.mutate()} disabled={test.isPending}>
                {t('integrations.mimecast.test')}
              </button>
              <button type="button" className="secondary" onClick={() => setEditing(true)}>
                {t('integrations.mimecast.change')}
              </button>
              <button type="button" className="danger" onClick={() => window.confirm(t('integrations.mimecast.removeConfirm')) && remove.mutate()}>
                {t('integrations.mimecast.remove')}
              </button>
            </div>
          )}
        </section>
      )}
      <Alerts accountId={accountId} polled={data?.lastPolledAt ?? null} />
    </Page>
  );
}

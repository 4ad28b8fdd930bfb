import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../../api/client';
import type { components } from '../../api/schema';
import { DateTime, ErrorMessage, Page, useAccountId } from '../../components/common';
import { formatNumber } from '../../i18n';
import { useSession } from '../../session';

type Destination = components['schemas']['ExportDestinationDto'];
type Kind = Destination['kind'];
type TestResult = components['schemas']['ExportTestResultDto'];

const KINDS: Kind[] = ['WEBHOOK', 'HEC', 'SYSLOG', 'NDJSON'];
/** OCSF classes the export sends (class_uid). */
const CLASSES = [4009, 2004, 7001] as const;
const SEVERITIES = [0, 1, 2, 3, 4, 5, 6] as const;

interface FormValues {
  name: string;
  kind: Kind;
  url: string;
  index: string;
  host: string;
  port: number;
  tls: boolean;
  serverName: string;
  folder: string;
  verifyTls: boolean;
  token: string;
  secret: string;
  classUids: string[];
  minSeverityId: number;
  actionableOnly: boolean;
  enabled: boolean;
}

type Settings = Record<string, unknown>;
const text = (settings: Settings, key: string, fallback = ''): string => (typeof settings[key] === 'string' ? (settings[key] as string) : fallback);

function defaultsOf(destination: Destination | null): FormValues {
  const settings = (destination?.settings ?? {}) as Settings;
  return {
    name: destination?.name ?? '',
    kind: destination?.kind ?? 'WEBHOOK',
    url: text(settings, 'url'),
    index: text(settings, 'index'),
    host: text(settings, 'host'),
    port: typeof settings.port === 'number' ? settings.port : 6514,
    tls: settings.tls === true,
    serverName: text(settings, 'serverName'),
    folder: text(settings, 'folder'),
    verifyTls: settings.verifyTls !== false,
    token: '',
    secret: '',
    classUids: (destination?.classUids ?? []).map(String),
    minSeverityId: destination?.minSeverityId ?? 0,
    actionableOnly: destination?.actionableOnly ?? false,
    enabled: destination?.enabled ?? true,
  };
}

/** The API's body: the settings of the chosen kind only; credentials only when typed (blank keeps the stored ones). */
function bodyOf(values: FormValues) {
  const optional = (value: string) => (value.trim() === '' ? undefined : value.trim());
  const settings: Settings =
    values.kind === 'SYSLOG'
      ? { host: values.host.trim(), port: Number(values.port), tls: values.tls, verifyTls: values.tls ? values.verifyTls : undefined, serverName: values.tls ? optional(values.serverName) : undefined }
      : values.kind === 'NDJSON'
        ? { folder: values.folder.trim() }
        : { url: values.url.trim(), verifyTls: values.verifyTls, index: values.kind === 'HEC' ? optional(values.index) : undefined };
  const credentials: Record<string, string> | undefined = values.kind === 'HEC' && values.token ? { token: values.token } : values.kind === 'WEBHOOK' && values.secret ? { secret: values.secret } : undefined;
  return {
    name: values.name.trim() || undefined,
    settings,
    credentials,
    classUids: values.classUids.map(Number),
    minSeverityId: Number(values.minSeverityId),
    actionableOnly: values.actionableOnly,
    enabled: values.enabled,
  };
}

function DestinationForm({ accountId, destination, onDone }: { accountId: string; destination: Destination | null; onDone: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const { register, handleSubmit, watch } = useForm<FormValues>({ defaultValues: defaultsOf(destination) });
  const kind = watch('kind');
  const tls = watch('tls');
  const save = useMutation({
    mutationFn: async (values: FormValues) => {
      const body = bodyOf(values);
      return destination
        ? unwrap(await api.PATCH('/v1/accounts/{accountId}/export-destinations/{destinationId}', { params: { path: { accountId, destinationId: destination.id } }, body }))
        : unwrap(await api.POST('/v1/accounts/{accountId}/export-destinations', { params: { path: { accountId } }, body: { ...body, kind: values.kind } }));
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['export-destinations', accountId] });
      onDone();
    },
  });
  const id = destination?.id ?? 'new';
  return (
    <form className="card" data-testid={destination ? `destination-form-${destination.name}` : 'destination-form'} onSubmit={handleSubmit((values) => save.mutate(values))} aria-labelledby={`form-title-${id}`}>
      <h2 id={`form-title-${id}`}>{destination ? t('integrations.export.editTitle', { name: destination.name }) : t('integrations.export.addTitle')}</h2>
      <div className="filters">
        <label>
          {t('integrations.export.name')}
          <input {...register('name')} />
        </label>
        <label>
          {t('integrations.export.kind')}
          <select {...register('kind')} disabled={destination !== null}>
            {KINDS.map((value) => (
              <option key={value} value={value}>
                {t(`integrations.export.kinds.${value}`)}
              </option>
            ))}
          </select>
        </label>
        {(kind === 'WEBHOOK' || kind === 'HEC') && (
          <label>
            {t('integrations.export.url')}
            <input type="url" {...register('url', { required: true })} placeholder={kind === 'HEC' ? t('integrations.export.hecUrlPlaceholder') : t('integrations.export.webhookUrlPlaceholder')} />
          </label>
        )}
        {kind === 'HEC' && (
          <label>
            {t('integrations.export.index')}
            <input {...register('index')} />
          </label>
        )}
        {kind === 'SYSLOG' && (
          <>
            <label>
              {t('integrations.export.host')}
              <input {...register('host', { required: true })} />
            </label>
            <label>
              {t('integrations.export.port')}
              <input type="number" min={1} max={65535} {...register('port', { valueAsNumber: true, required: true })} />
            </label>
            <label className="check">
              <input type="checkbox" {...register('tls')} />
              {t('integrations.export.tls')}
            </label>
            {tls && (
              <label>
                {t('integrations.export.serverName')}
                <input {...register('serverName')} />
              </label>
            )}
          </>
        )}
        {kind === 'NDJSON' && (
          <label>
            {t('integrations.export.folder')}
            <input {...register('folder', { required: true })} />
          </label>
        )}
        {(kind === 'WEBHOOK' || kind === 'HEC' || (kind === 'SYSLOG' && tls)) && (
          <label className="check">
            <input type="checkbox" {...register('verifyTls')} />
            {t('integrations.export.verifyTls')}
          </label>
        )}
        {kind === 'HEC' && (
          <label>
            {t('integrations.export.token')}
            <input type="password" autoComplete="off" {...register('token', { required: destination === null })} placeholder={destination?.hasCredentials ? t('integrations.keepStored') : ''} />
          </label>
        )}
        {kind === 'WEBHOOK' && (
          <label>
            {t('integrations.export.secret')}
            <input type="password" autoComplete="off" minLength={16} {...register('secret')} placeholder={destination?.hasCredentials ? t('integrations.keepStored') : t('integrations.export.secretHint')} />
          </label>
        )}
      </div>
      <fieldset>
        <legend>{t('integrations.export.filters')}</legend>
        {CLASSES.map((classUid) => (
          <label className="check" key={classUid}>
            <input type="checkbox" value={String(classUid)} {...register('classUids')} />
            {t(`integrations.export.classes.${classUid}`)}
          </label>
        ))}
        <p className="hint">{t('integrations.export.allClasses')}</p>
        <label>
          {t('integrations.export.minSeverity')}
          <select {...register('minSeverityId', { valueAsNumber: true })}>
            {SEVERITIES.map((severity) => (
              <option key={severity} value={severity}>
                {t(`integrations.export.severities.${severity}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" {...register('actionableOnly')} />
          {t('integrations.export.actionableOnly')}
        </label>
        <label className="check">
          <input type="checkbox" {...register('enabled')} />
          {t('integrations.export.enabled')}
        </label>
      </fieldset>
      <ErrorMessage error={save.error} />
      <div className="form-actions">
        <button type="submit" disabled={save.isPending}>
          {destination ? t('integrations.save') : t('integrations.export.add')}
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          {t('integrations.cancel')}
        </button>
      </div>
    </form>
  );
}

function target(destination: Destination): string {
  const settings = destination.settings as Settings;
  if (destination.kind === 'SYSLOG') return `${text(settings, 'host')}:${String(settings.port ?? '')}${settings.tls ? ' (TLS)' : ''}`;
  if (destination.kind === 'NDJSON') return text(settings, 'folder');
  return text(settings, 'url');
}

function DestinationCard({ accountId, destination, onEdit }: { accountId: string; destination: Destination; onEdit: () => void }) {
  const { t, i18n } = useTranslation();
  const language = i18n.resolvedLanguage ?? 'en';
  const { canChange } = useSession();
  const queryClient = useQueryClient();
  const [tested, setTested] = useState<TestResult | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['export-destinations', accountId] });
  const path = { accountId, destinationId: destination.id };
  const test = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/accounts/{accountId}/export-destinations/{destinationId}/test', { params: { path } })),
    onSuccess: (result) => {
      setTested(result);
      return refresh();
    },
  });
  const toggle = useMutation({
    mutationFn: async () => unwrap(await api.PATCH('/v1/accounts/{accountId}/export-destinations/{destinationId}', { params: { path }, body: { enabled: !destination.enabled } })),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE('/v1/accounts/{accountId}/export-destinations/{destinationId}', { params: { path } })),
    onSuccess: refresh,
  });
  const status = destination.status;
  const state = !destination.enabled ? 'disabled' : status.lastError && status.consecutiveFailures > 0 ? 'failing' : status.lastSuccessAt ? 'delivering' : 'waiting';
  return (
    <article className="card" data-testid={`destination-${destination.name}`} aria-labelledby={`destination-${destination.id}`}>
      <h2 id={`destination-${destination.id}`}>
        {destination.name} <span className={`pill ${state === 'failing' ? 'failed' : state === 'delivering' ? 'healthy' : 'pending'}`}>{t(`integrations.export.states.${state}`)}</span>
      </h2>
      <dl className="facts">
        <dt>{t('integrations.export.kind')}</dt>
        <dd>{t(`integrations.export.kinds.${destination.kind}`)}</dd>
        <dt>{t('integrations.export.target')}</dt>
        <dd>
          <code>{target(destination)}</code>
        </dd>
        <dt>{t('integrations.export.credentials')}</dt>
        <dd>{destination.hasCredentials ? t('integrations.export.credentialsStored') : t('integrations.none')}</dd>
        <dt>{t('integrations.export.lag')}</dt>
        <dd data-testid="lag">
          {t('integrations.export.lagEvents', { count: status.lagEvents })}
          {status.oldestPendingAt && (
            <>
              {' · '}
              {t('integrations.export.oldestPending')} <DateTime value={status.oldestPendingAt} />
            </>
          )}
        </dd>
        <dt>{t('integrations.export.sent')}</dt>
        <dd data-testid="sent">
          {t('integrations.export.sentCounts', { sent: formatNumber(status.eventsSent, language), batches: formatNumber(status.batchesSent, language), filtered: formatNumber(status.eventsFiltered, language) })}
        </dd>
        <dt>{t('integrations.export.lastSuccess')}</dt>
        <dd>{status.lastSuccessAt ? <DateTime value={status.lastSuccessAt} /> : t('integrations.never')}</dd>
        {status.lastError && (
          <>
            <dt>{t('integrations.export.lastError')}</dt>
            <dd className="check fail" data-testid="last-error">
              {status.lastError} <DateTime value={status.lastErrorAt} />
              {status.consecutiveFailures > 0 && <span className="detail"> {t('integrations.export.failures', { count: status.consecutiveFailures })}</span>}
              {status.nextAttemptAt && (
                <span className="detail">
                  {' '}
                  {t('integrations.export.nextAttempt')} <DateTime value={status.nextAttemptAt} />
                </span>
              )}
            </dd>
          </>
        )}
      </dl>
      {tested && (
        <div className={tested.ok ? 'success' : 'error'} role="status" data-testid="test-result">
          {tested.ok ? t('integrations.export.testOk', { uid: tested.eventUid }) : t('integrations.export.testFailed', { error: tested.error ?? '' })}
        </div>
      )}
      <ErrorMessage error={test.error ?? toggle.error ?? remove.error} />
      {canChange && (
        <div className="form-actions">
          <button type="button" className="secondary" onClick={() => test.mutate()} disabled={test.isPending} aria-label={t('integrations.export.testOf', { name: destination.name })}>
            {t('integrations.export.test')}
          </button>
          <button type="button" className="secondary" onClick={onEdit} aria-label={t('integrations.export.editOf', { name: destination.name })}>
            {t('integrations.edit')}
          </button>
          <button type="button" className="secondary" onClick={() => toggle.mutate()} aria-label={t(destination.enabled ? 'integrations.export.disableOf' : 'integrations.export.enableOf', { name: destination.name })}>
            {destination.enabled ? t('integrations.export.disable') : t('integrations.export.enable')}
          </button>
          <button
            type="button"
            className="danger"
            onClick={() => window.confirm(t('integrations.export.deleteConfirm', { name: destination.name })) && remove.mutate()}
            aria-label={t('integrations.export.deleteOf', { name: destination.name })}
          >
            {t('integrations.delete')}
          </button>
        </div>
      )}
    </article>
  );
}

export default function Export() {
  const { t } = useTranslation();
  const accountId = useAccountId();
  const { canChange } = useSession();
  const [editing, setEditing] = useState<string | null>(null);
  const destinations = useQuery({
    queryKey: ['export-destinations', accountId],
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/export-destinations', { params: { path: { accountId } } })),
    // Status (lag, last success, last error) moves as the scanner delivers: looked at again every 3 s.
    refetchInterval: 3000,
  });
  const items = destinations.data?.items ?? [];
  return (
    <Page
      title={t('integrations.export.title')}
      actions={
        canChange && editing === null ? (
          <button type="button" onClick={() => setEditing('new')}>
            {t('integrations.export.addTitle')}
          </button>
        ) : undefined
      }
    >
      <p className="hint">{t('integrations.export.explained')}</p>
      <ErrorMessage error={destinations.error} />
      {canChange && editing === 'new' && <DestinationForm accountId={accountId} destination={null} onDone={() => setEditing(null)} />}
      {items.map((destination) =>
        canChange && editing === destination.id ? (
          <DestinationForm key={destination.id} accountId={accountId} destination={destination} onDone={() => setEditing(null)} />
        ) : (
          <DestinationCard key={destination.id} accountId={accountId} destination={destination} onEdit={() => setEditing(destination.id)} />
        ),
      )}
      {destinations.data && items.length === 0 && <p className="muted">{t('integrations.export.empty')}</p>}
    </Page>
  );
}

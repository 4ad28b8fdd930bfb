import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../api/client';
import type { components } from '../api/schema';
import { DateTime, ErrorMessage, Page, useAccountId, useEnumLabel } from '../components/common';
import { QuickTest } from '../components/QuickTest';
import { useSession } from '../session';

type Domain = components['schemas']['DomainDto'];
type Verification = components['schemas']['DomainVerificationDto'];

function DownstreamForm({ domain, accountId }: { domain: Domain; accountId: string }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const { register, handleSubmit } = useForm({
    defaultValues: { host: domain.downstream?.host ?? '', port: domain.downstream?.port ?? 25, requireTls: domain.downstream?.requireTls ?? false, verifyCert: domain.downstream?.verifyCert ?? false },
  });
  const save = useMutation({
    mutationFn: async (body: { host: string; port: number; requireTls: boolean; verifyCert: boolean }) =>
      unwrap(await api.PUT('/v1/accounts/{accountId}/domains/{domainId}/downstream', { params: { path: { accountId, domainId: domain.id } }, body: { ...body, port: Number(body.port) } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['domains', accountId] }),
  });
  return (
    <form className="inline-form" onSubmit={handleSubmit((values) => save.mutate(values))} aria-label={t('domains.downstreamFor', { name: domain.name })}>
      <label>
        {t('domains.downstreamHost')}
        <input {...register('host', { required: true })} />
      </label>
      <label>
        {t('domains.downstreamPort')}
        <input type="number" min={1} max={65535} {...register('port', { valueAsNumber: true })} />
      </label>
      <label className="check">
        <input type="checkbox" {...register('requireTls')} />
        {t('domains.requireTls')}
      </label>
      <label className="check">
        <input type="checkbox" {...register('verifyCert')} />
        {t('domains.verifyCert')}
      </label>
      <button type="submit">{t('domains.saveDownstream')}</button>
      <ErrorMessage error={save.error} />
    </form>
  );
}

export default function Domains() {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const accountId = useAccountId();
  const { canChange } = useSession();
  const queryClient = useQueryClient();
  const [lookups, setLookups] = useState<Record<string, Verification>>({});
  const domains = useQuery({
    queryKey: ['domains', accountId],
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/domains', { params: { path: { accountId }, query: { limit: 200 } } })),
  });
  const { register, handleSubmit, reset } = useForm({ defaultValues: { name: '' } });
  const add = useMutation({
    mutationFn: async (name: string) => unwrap(await api.POST('/v1/accounts/{accountId}/domains', { params: { path: { accountId } }, body: { name } })),
    onSuccess: () => {
      reset();
      return queryClient.invalidateQueries({ queryKey: ['domains', accountId] });
    },
  });
  const verify = useMutation({
    mutationFn: async (domainId: string) =>
      unwrap(await api.POST('/v1/accounts/{accountId}/domains/{domainId}/verify', { params: { path: { accountId, domainId }, query: { bypassCache: true } } })),
    onSuccess: (result, domainId) => {
      setLookups((current) => ({ ...current, [domainId]: result }));
      return queryClient.invalidateQueries({ queryKey: ['domains', accountId] });
    },
  });
  return (
    <Page title={t('domains.title')}>
      {canChange && (
        <form className="inline-form" onSubmit={handleSubmit((values) => add.mutate(values.name))}>
          <label>
            {t('domains.name')}
            <input {...register('name', { required: true })} placeholder={t('domains.namePlaceholder')} />
          </label>
          <button type="submit">{t('domains.add')}</button>
        </form>
      )}
      <ErrorMessage error={domains.error ?? add.error ?? verify.error} />
      {domains.data?.items.map((domain) => {
        const lookup = lookups[domain.id];
        return (
          <article key={domain.id} className="card" data-testid={`domain-${domain.name}`}>
            <h2>{domain.name}</h2>
            <dl className="facts">
              <dt>{t('domains.mode')}</dt>
              <dd>
                {label('domainMode', domain.mode)}
                {domain.transitionMode ? ` → ${label('domainMode', domain.transitionMode)}` : ''}
              </dd>
              <dt>{t('domains.verification')}</dt>
              <dd>
                <span className={`pill ${domain.verificationStatus.toLowerCase()}`}>{label('verificationStatus', domain.verificationStatus)}</span> <DateTime value={domain.verifiedAt} />
              </dd>
              <dt>{t('domains.txtRecord')}</dt>
              <dd>
                <code>
                  {domain.verificationRecord.name} {domain.verificationRecord.type} &quot;{domain.verificationRecord.value}&quot;
                </code>
              </dd>
              <dt>{t('domains.downstream')}</dt>
              <dd>{domain.downstream ? `${domain.downstream.host}:${domain.downstream.port}` : t('domains.noDownstream')}</dd>
            </dl>
            {lookup && (
              <div className={lookup.verified ? 'success' : 'error'} role="status" data-testid="last-lookup">
                <p>{lookup.verified ? t('domains.verified') : t('domains.notVerified')}</p>
                <p>
                  {t('domains.lastLookup')}: {lookup.txtRecords.length > 0 ? lookup.txtRecords.join(' · ') : t('domains.noTxt')} {lookup.dnsError ?? ''}
                </p>
              </div>
            )}
            {canChange && (
              <>
                <button type="button" onClick={() => verify.mutate(domain.id)}>
                  {t('domains.verify')}
                </button>
                <DownstreamForm domain={domain} accountId={accountId} />
                {/* A journal domain's mail never passes through Mailwarden: there is no path to test. */}
                {domain.mode !== 'JOURNAL' && (
                  <section aria-label={t('quickTest.column')}>
                    <QuickTest accountId={accountId} domain={domain} />
                  </section>
                )}
              </>
            )}
          </article>
        );
      })}
      {domains.data && domains.data.items.length === 0 && <p className="muted">{t('domains.empty')}</p>}
    </Page>
  );
}

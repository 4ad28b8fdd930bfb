import { useQueries, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client';
import { ErrorMessage, Page } from '../components/common';

/** A tenant's health from its domains: every domain verified, some waiting, or none added yet. */
function health(domains: { verificationStatus: string }[] | undefined): 'unknown' | 'noDomains' | 'attention' | 'healthy' {
  if (!domains) return 'unknown';
  if (domains.length === 0) return 'noDomains';
  return domains.every((domain) => domain.verificationStatus === 'VERIFIED') ? 'healthy' : 'attention';
}

export default function Partner() {
  const { t } = useTranslation();
  const accounts = useQuery({ queryKey: ['accounts'], queryFn: async () => unwrap(await api.GET('/v1/accounts', { params: { query: { limit: 200 } } })) });
  const items = accounts.data?.items ?? [];
  const domains = useQueries({
    queries: items.map((account) => ({
      queryKey: ['domains', account.id],
      queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/domains', { params: { path: { accountId: account.id }, query: { limit: 200 } } })),
    })),
  });
  return (
    <Page title={t('partner.title')}>
      <ErrorMessage error={accounts.error} />
      <table className="grid" data-testid="tenants">
        <caption className="visually-hidden">{t('partner.title')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('partner.tenant')}</th>
            <th scope="col">{t('partner.mode')}</th>
            <th scope="col">{t('partner.health')}</th>
            <th scope="col">{t('partner.domains')}</th>
            <th scope="col">{t('common.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((account, index) => {
            const list = domains[index]?.data?.items;
            const state = health(list);
            return (
              <tr key={account.id}>
                <th scope="row">{account.name}</th>
                <td>{account.monitorOnly ? t('mode.monitorOnly') : t('mode.enforcing')}</td>
                <td>
                  <span className={`pill ${state}`}>{t(`partner.healthState.${state}`)}</span>
                </td>
                <td>{list ? list.map((domain) => domain.name).join(', ') : ''}</td>
                <td>
                  <Link to={`/t/${account.id}/dashboard`} aria-label={t('partner.enterTenant', { name: account.name })}>
                    {t('partner.enter')}
                  </Link>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {accounts.data && items.length === 0 && <p className="muted">{t('partner.empty')}</p>}
    </Page>
  );
}

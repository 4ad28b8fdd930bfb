import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../api/client';
import { ErrorMessage, Page, useAccountId } from '../components/common';

/** Journal setup: the tenant's own address and the provider steps (as the API words them, with the address in). */
export default function Journal() {
  const { t } = useTranslation();
  const accountId = useAccountId();
  const journal = useQuery({ queryKey: ['journal', accountId], queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/journal', { params: { path: { accountId } } })) });
  const data = journal.data;
  return (
    <Page title={t('journal.title')}>
      <ErrorMessage error={journal.error} />
      {data && (
        <>
          <p>
            {t('journal.address')}: <code data-testid="journal-address">{data.address}</code>
          </p>
          <p>
            {t('journal.sources')}: {data.allowedSourceIps.length > 0 ? data.allowedSourceIps.join(', ') : t('journal.anySource')} · {t('journal.requireTls')}:{' '}
            {data.requireTls ? t('common.yes') : t('common.no')}
          </p>
          <div className="cards">
            <article className="card">
              <h2>{t('journal.microsoft365')}</h2>
              <ol>
                {data.instructions.microsoft365.map((step, index) => (
                  <li key={index}>{step}</li>
                ))}
              </ol>
            </article>
            <article className="card">
              <h2>{t('journal.google')}</h2>
              <ol>
                {data.instructions.googleWorkspace.map((step, index) => (
                  <li key={index}>{step}</li>
                ))}
              </ol>
            </article>
          </div>
        </>
      )}
    </Page>
  );
}

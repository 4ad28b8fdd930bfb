import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client';
import type { components } from '../api/schema';
import { ErrorMessage, useEnumLabel } from './common';

type Domain = components['schemas']['DomainDto'];
type QuickTestResult = components['schemas']['QuickTestResultDto'];

/**
 * The domain quick test (POST .../quick-test): a test message through the domain's path (the scanner's SMTP front,
 * or for a mailflow domain Exchange Online hop by hop) and what became of it.
 */
export function QuickTest({ accountId, domain }: { accountId: string; domain: Domain }) {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const [result, setResult] = useState<QuickTestResult | null>(null);
  const run = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/accounts/{accountId}/domains/{domainId}/quick-test', { params: { path: { accountId, domainId: domain.id } }, body: {} })),
    onSuccess: setResult,
  });
  return (
    <div>
      <button type="button" className="secondary" onClick={() => run.mutate()} disabled={run.isPending}>
        {t('quickTest.send', { domain: domain.name })}
      </button>
      {run.isPending && <p role="status">{t('quickTest.running')}</p>}
      <ErrorMessage error={run.error} />
      {result && (
        <div className={result.arrived ? 'success' : 'error'} role="status" data-testid={`quick-test-${domain.name}`}>
          <p>{result.arrived ? t('quickTest.arrived', { recipient: result.recipient }) : t('quickTest.notArrived', { recipient: result.recipient })}</p>
          {result.error && <p className="detail">{result.error}</p>}
          <p className="detail">
            {result.deliveryState && <>{t('quickTest.state', { state: label('deliveryState', result.deliveryState) })} · </>}
            {t('quickTest.elapsed', { seconds: result.elapsedMs / 1000 })}
            {result.messageId && (
              <>
                {' · '}
                <Link to={`/t/${accountId}/messages/${result.messageId}`}>{t('quickTest.openMessage')}</Link>
              </>
            )}
          </p>
          {result.hops && (
            <ol className="steps">
              {result.hops.map((hop) => (
                <li key={hop.hop}>
                  <span className={`pill ${hop.status === 'passed' ? 'done' : hop.status === 'failed' ? 'failed' : 'pending'}`}>{t(`quickTest.hopStatus.${hop.status}`)}</span> {t(`quickTest.hops.${hop.hop}`)}
                  {hop.detail && <span className="detail"> {hop.detail}</span>}
                </li>
              ))}
            </ol>
          )}
        </div>
      )}
    </div>
  );
}

import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api, unwrap } from '../api/client';
import { DateTime, ErrorMessage, Page, useAccountId, useEnumLabel } from '../components/common';
import { describeCheck } from '../components/evidence';
import { useAccount } from '../components/Layout';
import { Clawback } from './admin/Clawback';

const TABS = ['details', 'evidence', 'recipients', 'headers'] as const;

export default function MessageDetail() {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const accountId = useAccountId();
  const { messageId } = useParams();
  const account = useAccount(accountId);
  const [tab, setTab] = useState<(typeof TABS)[number]>('details');
  const [headers, setHeaders] = useState<string | null>(null);
  const path = { accountId, messageId: messageId! };
  const message = useQuery({ queryKey: ['message', accountId, messageId], queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/messages/{messageId}', { params: { path } })) });
  const recipients = useQuery({
    queryKey: ['message-recipients', accountId, messageId],
    enabled: tab === 'recipients',
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/messages/{messageId}/recipients', { params: { path } })),
  });
  const rawUrl = `/v1/accounts/${encodeURIComponent(accountId)}/messages/${encodeURIComponent(messageId!)}/raw`;
  const loadHeaders = async () => {
    const response = await fetch(rawUrl, { credentials: 'same-origin' });
    const text = await response.text();
    setHeaders(text.split(/\r?\n\r?\n/)[0] ?? '');
  };
  const monitorOnly = account.data?.monitorOnly ?? false;
  const data = message.data;
  return (
    <Page
      title={data?.subject || t('messages.noSubject')}
      actions={
        <a className="button secondary" href={rawUrl} download={`${messageId}.eml`}>
          {t('message.download')}
        </a>
      }
    >
      <p>
        <Link to={`/t/${accountId}/messages`}>{t('message.back')}</Link>
      </p>
      <ErrorMessage error={message.error} />
      {data && (
        <>
          <div role="tablist" aria-label={t('message.tabs')} className="tabs">
            {TABS.map((name) => (
              <button key={name} role="tab" type="button" id={`tab-${name}`} aria-selected={tab === name} aria-controls={`panel-${name}`} onClick={() => setTab(name)}>
                {t(`message.tab.${name}`)}
              </button>
            ))}
          </div>
          {tab === 'details' && (
            <div role="tabpanel" id="panel-details" aria-labelledby="tab-details">
              <dl className="facts">
                <dt>{t('messages.subject')}</dt>
                <dd>{data.subject || t('messages.noSubject')}</dd>
                <dt>{t('messages.direction')}</dt>
                <dd>{label('direction', data.direction)}</dd>
                <dt>{t('messages.deliveryMode')}</dt>
                <dd>{label('source', data.source)}</dd>
                <dt>{t('messages.received')}</dt>
                <dd>
                  <DateTime value={data.receivedAt} />
                </dd>
                <dt>{t('message.smtpFrom')}</dt>
                <dd>{data.envelopeFrom || t('messages.nullSender')}</dd>
                <dt>{t('message.headerFrom')}</dt>
                <dd>{data.headerFrom}</dd>
                <dt>{t('message.smtpRecipients')}</dt>
                <dd>{data.envelopeTo.join(', ')}</dd>
                <dt>{t('message.clientIp')}</dt>
                <dd>{data.clientIp}</dd>
                <dt>{t('message.messageIdHeader')}</dt>
                <dd>{data.messageIdHeader}</dd>
                <dt>{t('messages.status')}</dt>
                <dd>{label('deliveryState', data.deliveryState)}</dd>
              </dl>
            </div>
          )}
          {tab === 'evidence' && (
            <div role="tabpanel" id="panel-evidence" aria-labelledby="tab-evidence" data-testid="evidence">
              {monitorOnly && <p className="notice">{t('message.monitorOnlyNotice')}</p>}
              {data.verdicts.map((verdict) => (
                <article key={verdict.id} className="card">
                  <h2>{verdict.recipient}</h2>
                  <p>
                    {monitorOnly || !verdict.enforced ? t('message.wouldHaveDecided') : t('message.decided')}{' '}
                    <span className={`pill ${String(verdict.decidedAction).toLowerCase()}`}>{label('action', verdict.decidedAction)}</span>
                  </p>
                  <ul className="checks">
                    {(verdict.checks as Record<string, unknown>[]).map((check, index) => (
                      <li key={index} className={`check ${String(check.status)}`}>
                        {describeCheck(check, t)}
                      </li>
                    ))}
                  </ul>
                  {(verdict.reasons as { detail?: string }[]).length > 0 && (
                    <>
                      <h3>{t('message.reasons')}</h3>
                      <ul>
                        {(verdict.reasons as { detail?: string; source?: string }[]).map((reason, index) => (
                          <li key={index}>{reason.detail ?? reason.source}</li>
                        ))}
                      </ul>
                    </>
                  )}
                  <details>
                    <summary>{t('message.rawEvidence')}</summary>
                    <pre>{JSON.stringify({ checks: verdict.checks, reasons: verdict.reasons }, null, 2)}</pre>
                  </details>
                </article>
              ))}
            </div>
          )}
          {tab === 'recipients' && (
            <div role="tabpanel" id="panel-recipients" aria-labelledby="tab-recipients" data-testid="recipient-timeline">
              <ErrorMessage error={recipients.error} />
              {recipients.data?.recipients.map((recipient) => (
                <article key={recipient.recipient} className="card">
                  <h2>{recipient.recipient}</h2>
                  <p>
                    {t('message.deliveryState')}: {label('deliveryState', recipient.deliveryState)}
                  </p>
                  <ol className="timeline">
                    {recipient.events.map((event, index) => (
                      <li key={index}>
                        <DateTime value={event.at} /> <strong>{label('event', event.type)}</strong> {event.action ? label('action', event.action) : ''} {event.reply ?? ''}
                      </li>
                    ))}
                  </ol>
                </article>
              ))}
            </div>
          )}
          {tab === 'headers' && (
            <div role="tabpanel" id="panel-headers" aria-labelledby="tab-headers">
              <p className="hint">{t('message.headersAudited')}</p>
              {headers === null ? (
                <button type="button" onClick={() => void loadHeaders()}>
                  {t('message.showHeaders')}
                </button>
              ) : (
                <pre data-testid="raw-headers">{headers}</pre>
              )}
            </div>
          )}
          <Clawback accountId={accountId} messageId={messageId!} deliveryState={data.deliveryState} />
        </>
      )}
    </Page>
  );
}

import { useQueries, useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client';
import { ErrorMessage, Num, Page, useAccountId, useEnumLabel } from '../components/common';
import { useAccount } from '../components/Layout';
import { TimeChart } from '../components/TimeChart';

const HOUR = 3_600_000;
const RANGES = { '24h': { hours: 24, buckets: 8 }, '7d': { hours: 168, buckets: 7 }, '30d': { hours: 720, buckets: 10 } } as const;
type Range = keyof typeof RANGES;

function windowOf(range: Range, now = Date.now()) {
  const to = Math.ceil(now / HOUR) * HOUR;
  const { hours, buckets } = RANGES[range];
  const step = (hours / buckets) * HOUR;
  return { from: to - hours * HOUR, to, edges: Array.from({ length: buckets }, (_, index) => to - hours * HOUR + index * step), step };
}

const countOf = (list: { key: string; count: number }[], key: string) => list.find((entry) => entry.key === key)?.count ?? 0;

function CountList({ title, entries, group, testId }: { title: string; entries: { key: string; count: number }[]; group?: string; testId: string }) {
  const { t } = useTranslation();
  const label = useEnumLabel();
  return (
    <div className="card" data-testid={testId}>
      <h2>{title}</h2>
      {entries.length === 0 ? (
        <p className="muted">{t('common.none')}</p>
      ) : (
        <table>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.key}>
                <th scope="row">{group ? label(group, entry.key) : entry.key}</th>
                <td className="num">
                  <Num value={entry.count} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export default function Dashboard() {
  const { t } = useTranslation();
  const accountId = useAccountId();
  const account = useAccount(accountId);
  const [range, setRange] = useState<Range>('24h');
  const window = useMemo(() => windowOf(range), [range]);
  const statsQuery = (from: number, to: number) => ({
    queryKey: ['statistics', accountId, from, to],
    queryFn: async () =>
      unwrap(await api.GET('/v1/accounts/{accountId}/statistics', { params: { path: { accountId }, query: { from: new Date(from).toISOString(), to: new Date(to).toISOString(), top: 5 } } })),
  });
  const total = useQuery(statsQuery(window.from, window.to));
  const buckets = useQueries({ queries: window.edges.map((edge) => statsQuery(edge, edge + window.step)) });
  const monitorOnly = account.data?.monitorOnly ?? false;
  const stats = total.data;
  const bucketsKey = buckets.map((bucket) => bucket.dataUpdatedAt).join(',');
  const chart = useMemo(() => {
    if (buckets.some((bucket) => !bucket.data)) return null;
    const data = buckets.map((bucket) => bucket.data!);
    return {
      times: window.edges,
      series: [
        { name: t('dashboard.inbound'), values: data.map((entry) => countOf(entry.byDirection, 'INBOUND')), color: '#2563eb' },
        { name: t('dashboard.outbound'), values: data.map((entry) => countOf(entry.byDirection, 'OUTBOUND')), color: '#059669' },
        { name: t('dashboard.notDelivered'), values: data.map((entry) => entry.total - countOf(entry.byDecidedAction, 'DELIVER')), color: '#dc2626' },
      ],
    };
  }, [bucketsKey, t]); // buckets change identity on every render; their data only when bucketsKey does
  return (
    <Page
      title={t('dashboard.title')}
      actions={
        <div role="group" aria-label={t('dashboard.period')} className="segmented">
          {(Object.keys(RANGES) as Range[]).map((key) => (
            <button key={key} type="button" aria-pressed={range === key} onClick={() => setRange(key)}>
              {t(`dashboard.range.${key}`)}
            </button>
          ))}
        </div>
      }
    >
      {monitorOnly && (
        <p className="notice" data-testid="monitor-only-notice">
          {t('dashboard.monitorOnlyNotice')}
        </p>
      )}
      <ErrorMessage error={total.error} />
      {stats && (
        <>
          <div className="tiles">
            <div className="tile" data-testid="tile-inbound">
              <span>{t('dashboard.inbound')}</span>
              <strong>
                <Num value={countOf(stats.byDirection, 'INBOUND')} />
              </strong>
            </div>
            <div className="tile" data-testid="tile-outbound">
              <span>{t('dashboard.outbound')}</span>
              <strong>
                <Num value={countOf(stats.byDirection, 'OUTBOUND')} />
              </strong>
            </div>
            <div className="tile" data-testid="tile-total">
              <span>{t('dashboard.verdicts')}</span>
              <strong>
                <Num value={stats.total} />
              </strong>
            </div>
            <div className="tile" data-testid="tile-quarantined">
              <span>{monitorOnly ? t('dashboard.wouldHaveQuarantined') : t('dashboard.quarantined')}</span>
              <strong>
                <Num value={countOf(stats.byDecidedAction, 'QUARANTINE')} />
              </strong>
            </div>
            <div className="tile" data-testid="tile-rejected">
              <span>{monitorOnly ? t('dashboard.wouldHaveRejected') : t('dashboard.rejected')}</span>
              <strong>
                <Num value={countOf(stats.byDecidedAction, 'REJECT')} />
              </strong>
            </div>
          </div>
          {chart && <TimeChart times={chart.times} series={chart.series} label={t('dashboard.chartLabel')} />}
          <div className="cards">
            <CountList title={monitorOnly ? t('dashboard.decidedMonitorOnly') : t('dashboard.decided')} entries={stats.byDecidedAction} group="action" testId="decided" />
            <CountList title={t('dashboard.applied')} entries={stats.byAppliedAction} group="appliedAction" testId="applied" />
            <CountList title={t('dashboard.failedChecks')} entries={stats.byFailedCheck} group="check" testId="failed-checks" />
            <CountList title={t('dashboard.dataControlHits')} entries={stats.byDataControlRule} testId="data-control" />
            <CountList title={t('dashboard.topRecipients')} entries={stats.topRecipients} testId="top-recipients" />
            <CountList title={t('dashboard.topSenders')} entries={stats.topSenders} testId="top-senders" />
          </div>
          <p>
            <Link to={`/t/${accountId}/messages`}>{t('dashboard.openHistory')}</Link>
          </p>
        </>
      )}
    </Page>
  );
}

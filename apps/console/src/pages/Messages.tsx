import { useQuery } from '@tanstack/react-query';
import { createColumnHelper, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { api, unwrap } from '../api/client';
import type { components } from '../api/schema';
import { DateTime, ErrorMessage, Page, useAccountId, useEnumLabel } from '../components/common';
import { DataTable, Pager } from '../components/DataTable';
import { useAccount } from '../components/Layout';

type Summary = components['schemas']['MessageSummaryDto'];
type Query = NonNullable<NonNullable<import('../api/schema').operations['searchMessages']['parameters']['query']>>;

const FILTERS = ['sender', 'senderDomain', 'recipient', 'subject', 'direction', 'action', 'failedCheck', 'from', 'to'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;
const DIRECTIONS = ['INBOUND', 'OUTBOUND', 'INTERNAL', 'EXTERNAL'];
const ACTIONS = ['DELIVER', 'TAG_SUBJECT', 'QUARANTINE', 'REJECT'];
const CHECKS = ['dmarc', 'spf', 'dkim', 'header-anomaly'];

const column = createColumnHelper<Summary>();

/** The worst decided action of a message's verdicts (what it shows in the list). */
function worstAction(message: Summary): string | null {
  const order = ['DELIVER', 'TAG_SUBJECT', 'QUARANTINE', 'REJECT'];
  const actions = message.verdicts.map((verdict) => verdict.decidedAction).filter(Boolean) as string[];
  return actions.sort((a, b) => order.indexOf(b) - order.indexOf(a))[0] ?? null;
}

export default function Messages() {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const accountId = useAccountId();
  const account = useAccount(accountId);
  const [searchParams, setSearchParams] = useSearchParams();
  const filters = Object.fromEntries(FILTERS.map((name) => [name, searchParams.get(name) ?? ''])) as Filters;
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const { register, handleSubmit, reset } = useForm<Filters>({ values: filters });
  const query: Query = { limit: 25, ...(cursor ? { cursor } : {}) };
  for (const name of FILTERS) {
    const value = filters[name];
    if (!value) continue;
    (query as Record<string, string>)[name] = name === 'from' || name === 'to' ? new Date(value).toISOString() : value;
  }
  const page = useQuery({
    queryKey: ['messages', accountId, query],
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/messages', { params: { path: { accountId }, query } })),
  });
  const monitorOnly = account.data?.monitorOnly ?? false;
  const columns = useMemo(
    () => [
      column.accessor('receivedAt', { header: () => t('messages.received'), cell: (cell) => <DateTime value={cell.getValue()} /> }),
      column.accessor('direction', { header: () => t('messages.direction'), cell: (cell) => label('direction', cell.getValue()) }),
      column.accessor('source', { header: () => t('messages.deliveryMode'), cell: (cell) => label('source', cell.getValue()) }),
      column.accessor('envelopeFrom', { header: () => t('messages.sender'), cell: (cell) => cell.row.original.headerFrom || cell.getValue() || t('messages.nullSender') }),
      column.accessor('envelopeTo', { header: () => t('messages.recipients'), cell: (cell) => cell.getValue().join(', ') }),
      column.accessor('subject', {
        header: () => t('messages.subject'),
        cell: (cell) => <Link to={`/t/${accountId}/messages/${cell.row.original.id}`}>{cell.getValue() || t('messages.noSubject')}</Link>,
      }),
      column.display({
        id: 'action',
        header: () => (monitorOnly ? t('messages.wouldHaveAction') : t('messages.action')),
        cell: (cell) => {
          const action = worstAction(cell.row.original);
          return action ? <span className={`pill ${action.toLowerCase()}`}>{label('action', action)}</span> : label('scanStatus', cell.row.original.scanStatus);
        },
      }),
      column.accessor('deliveryState', { header: () => t('messages.status'), cell: (cell) => label('deliveryState', cell.getValue()) }),
    ],
    [t, label, accountId, monitorOnly],
  );
  const table = useReactTable({ data: page.data?.items ?? [], columns, getCoreRowModel: getCoreRowModel() });
  const apply = (values: Filters) => {
    setCursors([null]);
    setSearchParams(Object.fromEntries(Object.entries(values).filter(([, value]) => value)));
  };
  return (
    <Page title={t('messages.title')}>
      {monitorOnly && <p className="notice">{t('messages.monitorOnlyNotice')}</p>}
      <form className="filters" onSubmit={handleSubmit(apply)} aria-label={t('messages.filters')}>
        <label>
          {t('messages.filter.sender')}
          <input type="email" {...register('sender')} />
        </label>
        <label>
          {t('messages.filter.senderDomain')}
          <input {...register('senderDomain')} />
        </label>
        <label>
          {t('messages.filter.recipient')}
          <input type="email" {...register('recipient')} />
        </label>
        <label>
          {t('messages.filter.subject')}
          <input {...register('subject', { minLength: 3 })} />
        </label>
        <label>
          {t('messages.filter.direction')}
          <select {...register('direction')}>
            <option value="">{t('common.any')}</option>
            {DIRECTIONS.map((value) => (
              <option key={value} value={value}>
                {label('direction', value)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('messages.filter.action')}
          <select {...register('action')}>
            <option value="">{t('common.any')}</option>
            {ACTIONS.map((value) => (
              <option key={value} value={value}>
                {label('action', value)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('messages.filter.failedCheck')}
          <select {...register('failedCheck')}>
            <option value="">{t('common.any')}</option>
            {CHECKS.map((value) => (
              <option key={value} value={value}>
                {label('check', value)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('messages.filter.from')}
          <input type="datetime-local" {...register('from')} />
        </label>
        <label>
          {t('messages.filter.to')}
          <input type="datetime-local" {...register('to')} />
        </label>
        <div className="form-actions">
          <button type="submit">{t('messages.search')}</button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              reset(Object.fromEntries(FILTERS.map((name) => [name, ''])) as Filters);
              apply(Object.fromEntries(FILTERS.map((name) => [name, ''])) as Filters);
            }}
          >
            {t('messages.clear')}
          </button>
        </div>
      </form>
      <ErrorMessage error={page.error} />
      <DataTable table={table} caption={t('messages.title')} testId="messages-table" />
      {page.data && page.data.items.length === 0 && <p className="muted">{t('messages.empty')}</p>}
      <Pager cursors={cursors} setCursors={setCursors} nextCursor={page.data?.nextCursor} />
    </Page>
  );
}

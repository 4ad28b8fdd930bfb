import { useQuery } from '@tanstack/react-query';
import { createColumnHelper, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import type { components } from '../../api/schema';
import { DateTime, ErrorMessage, Page, useAccountId } from '../../components/common';
import { DataTable, Pager } from '../../components/DataTable';

type AuditEvent = components['schemas']['AuditEventDto'];
const FILTERS = ['from', 'to', 'actor', 'action'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;
const column = createColumnHelper<AuditEvent>();

/** Who acted: a person (`user:<email>`), an API key (`api-key:<prefix> (<name>)`) or Mailwarden itself. */
export function Actor({ actor }: { actor: string }) {
  const { t } = useTranslation();
  const person = /^user:(.+)$/.exec(actor);
  if (person) return <span data-testid="actor-person">{t('admin.audit.person', { email: person[1] })}</span>;
  const key = /^api-key:(\S+) \((.*)\)$/.exec(actor);
  if (key) return <span>{t('admin.audit.apiKey', { prefix: key[1], name: key[2] })}</span>;
  return <span>{actor}</span>;
}

/** The account's audit log: filters (time, actor, action) in the URL, a paged table, each entry's before and after. */
export default function Audit() {
  const { t } = useTranslation();
  const accountId = useAccountId();
  const [searchParams, setSearchParams] = useSearchParams();
  const filters = Object.fromEntries(FILTERS.map((name) => [name, searchParams.get(name) ?? ''])) as Filters;
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const { register, handleSubmit, reset } = useForm<Filters>({ values: filters });
  const query: Record<string, string | number> = { limit: 25, ...(cursor ? { cursor } : {}) };
  for (const name of FILTERS) {
    const value = filters[name].trim();
    if (value) query[name] = name === 'from' || name === 'to' ? new Date(value).toISOString() : value;
  }
  const events = useQuery({
    queryKey: ['audit', accountId, query],
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/audit-events', { params: { path: { accountId }, query } })),
  });
  const columns = useMemo(
    () => [
      column.accessor('at', { header: () => t('admin.audit.when'), cell: (cell) => <DateTime value={cell.getValue()} /> }),
      column.accessor('actor', { header: () => t('admin.audit.actor'), cell: (cell) => <Actor actor={cell.getValue()} /> }),
      column.accessor('action', { header: () => t('admin.audit.action'), cell: (cell) => <code>{cell.getValue()}</code> }),
      column.accessor('objectType', {
        header: () => t('admin.audit.object'),
        cell: (cell) => (
          <>
            {cell.getValue()} <span className="muted">{cell.row.original.objectId}</span>
          </>
        ),
      }),
      column.display({
        id: 'details',
        header: () => t('admin.audit.details'),
        cell: ({ row }) =>
          row.original.before || row.original.after ? (
            <details>
              <summary>{t('admin.audit.showDetails', { sequence: row.original.sequence })}</summary>
              <dl className="facts">
                <dt>{t('admin.audit.before')}</dt>
                <dd>
                  <pre>{row.original.before ? JSON.stringify(row.original.before, null, 2) : t('admin.audit.nothing')}</pre>
                </dd>
                <dt>{t('admin.audit.after')}</dt>
                <dd>
                  <pre>{row.original.after ? JSON.stringify(row.original.after, null, 2) : t('admin.audit.nothing')}</pre>
                </dd>
              </dl>
            </details>
          ) : null,
      }),
    ],
    [t],
  );
  const table = useReactTable({ data: events.data?.items ?? [], columns, getRowId: (event) => event.sequence, getCoreRowModel: getCoreRowModel() });
  const apply = (values: Filters) => {
    setCursors([null]);
    setSearchParams(Object.fromEntries(Object.entries(values).filter(([, value]) => value.trim() !== '')));
  };
  return (
    <Page title={t('admin.audit.title')}>
      <form className="filters" onSubmit={handleSubmit(apply)} aria-label={t('admin.audit.filters')} data-testid="audit-filters">
        <label>
          {t('admin.audit.from')}
          <input type="datetime-local" {...register('from')} />
        </label>
        <label>
          {t('admin.audit.to')}
          <input type="datetime-local" {...register('to')} />
        </label>
        <label>
          {t('admin.audit.actor')}
          <input {...register('actor')} placeholder={t('admin.audit.actorPlaceholder')} />
        </label>
        <label>
          {t('admin.audit.action')}
          <input {...register('action')} placeholder={t('admin.audit.actionPlaceholder')} />
        </label>
        <div className="form-actions">
          <button type="submit">{t('admin.audit.apply')}</button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              reset({ from: '', to: '', actor: '', action: '' });
              apply({ from: '', to: '', actor: '', action: '' });
            }}
          >
            {t('admin.audit.clear')}
          </button>
        </div>
      </form>
      <ErrorMessage error={events.error} />
      <DataTable table={table} caption={t('admin.audit.title')} testId="audit-table" />
      {events.data && events.data.items.length === 0 && <p className="muted">{t('admin.audit.empty')}</p>}
      <Pager cursors={cursors} setCursors={setCursors} nextCursor={events.data?.nextCursor} />
    </Page>
  );
}

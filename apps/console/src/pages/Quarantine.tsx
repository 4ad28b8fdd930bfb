import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper, getCoreRowModel, type RowSelectionState, useReactTable } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client';
import type { components } from '../api/schema';
import { DateTime, ErrorMessage, Page, useAccountId, useEnumLabel } from '../components/common';
import { DataTable, Pager } from '../components/DataTable';
import { useAccount } from '../components/Layout';
import { useSession } from '../session';

type Item = components['schemas']['QuarantineItemDto'];
type Action = 'release' | 'releaseAndAllow' | 'delete' | 'deleteAndBlock';
const column = createColumnHelper<Item>();

export default function Quarantine() {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const accountId = useAccountId();
  const account = useAccount(accountId);
  const { canChange } = useSession();
  const queryClient = useQueryClient();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [selection, setSelection] = useState<RowSelectionState>({});
  const [outcome, setOutcome] = useState<string | null>(null);
  const cursor = cursors[cursors.length - 1];
  const page = useQuery({
    queryKey: ['quarantine', accountId, cursor],
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/quarantine', { params: { path: { accountId }, query: { limit: 25, ...(cursor ? { cursor } : {}) } } })),
  });
  const monitorOnly = account.data?.monitorOnly ?? false;
  const act = useMutation({
    mutationFn: async ({ action, itemId }: { action: Action; itemId: string }) => {
      const path = { accountId, itemId };
      if (action === 'release') return unwrap(await api.POST('/v1/accounts/{accountId}/quarantine/{itemId}/release', { params: { path } }));
      if (action === 'releaseAndAllow') return unwrap(await api.POST('/v1/accounts/{accountId}/quarantine/{itemId}/release-and-allow-sender', { params: { path } }));
      if (action === 'delete') return unwrap(await api.DELETE('/v1/accounts/{accountId}/quarantine/{itemId}', { params: { path } }));
      return unwrap(await api.POST('/v1/accounts/{accountId}/quarantine/{itemId}/delete-and-block-sender', { params: { path } }));
    },
    onSuccess: (_data, variables) => setOutcome(t(`quarantine.done.${variables.action}`)),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['quarantine', accountId] }),
  });
  const bulk = useMutation({
    mutationFn: async (action: 'release' | 'delete') => {
      const ids = Object.keys(selection).filter((id) => selection[id]);
      const body = { ids };
      return action === 'release'
        ? unwrap(await api.POST('/v1/accounts/{accountId}/quarantine/release', { params: { path: { accountId } }, body }))
        : unwrap(await api.POST('/v1/accounts/{accountId}/quarantine/delete', { params: { path: { accountId } }, body }));
    },
    onSuccess: (result) => {
      const items = (result as { items?: { outcome: string }[] }).items ?? [];
      setOutcome(t('quarantine.bulkDone', { count: items.length }));
      setSelection({});
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['quarantine', accountId] }),
  });
  const actionable = (item: Item) => canChange && item.enforced && item.status === 'HELD';
  const columns = useMemo(
    () => [
      ...(canChange && !monitorOnly
        ? [
            column.display({
              id: 'select',
              header: ({ table }) => (
                <input type="checkbox" aria-label={t('quarantine.selectAll')} checked={table.getIsAllRowsSelected()} onChange={table.getToggleAllRowsSelectedHandler()} />
              ),
              cell: ({ row }) => (
                <input
                  type="checkbox"
                  aria-label={t('quarantine.select', { subject: row.original.message.subject ?? '' })}
                  checked={row.getIsSelected()}
                  disabled={!row.getCanSelect()}
                  onChange={row.getToggleSelectedHandler()}
                />
              ),
            }),
          ]
        : []),
      column.accessor('createdAt', { header: () => t('quarantine.when'), cell: (cell) => <DateTime value={cell.getValue()} /> }),
      column.accessor('recipient', { header: () => t('quarantine.recipient') }),
      column.accessor((item) => item.message.headerFrom || item.message.envelopeFrom, { id: 'sender', header: () => t('quarantine.sender') }),
      column.accessor((item) => item.message.subject, {
        id: 'subject',
        header: () => t('quarantine.subject'),
        cell: (cell) => <Link to={`/t/${accountId}/messages/${cell.row.original.messageId}`}>{cell.getValue() || t('messages.noSubject')}</Link>,
      }),
      column.accessor('reason', { header: () => t('quarantine.reason') }),
      column.accessor('status', { header: () => t('quarantine.status'), cell: (cell) => label('quarantineStatus', cell.getValue()) }),
      ...(canChange && !monitorOnly
        ? [
            column.display({
              id: 'actions',
              header: () => t('common.actions'),
              cell: ({ row }) =>
                actionable(row.original) ? (
                  <div className="row-actions">
                    {(['release', 'releaseAndAllow', 'delete', 'deleteAndBlock'] as const).map((action) => (
                      <button
                        key={action}
                        type="button"
                        className={action.startsWith('delete') ? 'danger small' : 'small'}
                        onClick={() => act.mutate({ action, itemId: row.original.id })}
                        aria-label={`${t(`quarantine.action.${action}`)}: ${row.original.message.subject ?? ''}`}
                      >
                        {t(`quarantine.action.${action}`)}
                      </button>
                    ))}
                  </div>
                ) : null,
            }),
          ]
        : []),
    ],
    [t, label, accountId, canChange, monitorOnly],
  );
  const table = useReactTable({
    data: page.data?.items ?? [],
    columns,
    getRowId: (item) => item.id,
    state: { rowSelection: selection },
    enableRowSelection: (row) => actionable(row.original),
    onRowSelectionChange: setSelection,
    getCoreRowModel: getCoreRowModel(),
  });
  const selected = Object.values(selection).filter(Boolean).length;
  return (
    <Page title={t('quarantine.title')}>
      {monitorOnly && (
        <p className="notice" data-testid="monitor-only-notice">
          {t('quarantine.monitorOnlyNotice')}
        </p>
      )}
      {canChange && !monitorOnly && (
        <div className="toolbar" role="toolbar" aria-label={t('quarantine.bulkActions')}>
          <span>{t('quarantine.selected', { count: selected })}</span>
          <button type="button" disabled={selected === 0} onClick={() => bulk.mutate('release')}>
            {t('quarantine.releaseSelected')}
          </button>
          <button type="button" className="danger" disabled={selected === 0} onClick={() => bulk.mutate('delete')}>
            {t('quarantine.deleteSelected')}
          </button>
        </div>
      )}
      {outcome && (
        <p className="success" role="status">
          {outcome}
        </p>
      )}
      <ErrorMessage error={page.error ?? act.error ?? bulk.error} />
      <DataTable table={table} caption={t('quarantine.title')} testId="quarantine-table" />
      {page.data && page.data.items.length === 0 && <p className="muted">{t('quarantine.empty')}</p>}
      <Pager cursors={cursors} setCursors={setCursors} nextCursor={page.data?.nextCursor} />
    </Page>
  );
}

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createColumnHelper, getCoreRowModel, useReactTable } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../../api/client';
import type { components } from '../../api/schema';
import { DateTime, ErrorMessage, Page, useAccountId } from '../../components/common';
import { DataTable, Pager } from '../../components/DataTable';
import { useSession } from '../../session';
import { CopyButton } from './CopyButton';
import { RoleOptions } from './RoleOptions';

type ApiKey = components['schemas']['ApiKeyDto'];
type Created = components['schemas']['CreatedApiKeyDto'];
type KeyRole = 'PARTNER_ADMIN' | 'TENANT_ADMIN' | 'READ_ONLY';
const column = createColumnHelper<ApiKey>();

/** API keys of the tenant: list (never a secret), create (the key shown exactly once), revoke. */
export default function ApiKeys() {
  const { t } = useTranslation();
  const accountId = useAccountId();
  const { me, canChange } = useSession();
  const queryClient = useQueryClient();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [created, setCreated] = useState<Created | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [revoked, setRevoked] = useState<string | null>(null);
  const cursor = cursors[cursors.length - 1];
  const keys = useQuery({
    queryKey: ['api-keys', accountId, cursor],
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/api-keys', { params: { path: { accountId }, query: { limit: 25, ...(cursor ? { cursor } : {}) } } })),
  });
  // Partner admin keys belong to the partner (the operator's or a partner admin's); account keys to this tenant.
  const roles: KeyRole[] = me?.role === 'PARTNER_ADMIN' && me.partnerId ? ['TENANT_ADMIN', 'READ_ONLY', 'PARTNER_ADMIN'] : ['TENANT_ADMIN', 'READ_ONLY'];
  const { register, handleSubmit, reset } = useForm<{ name: string; role: KeyRole }>({ defaultValues: { name: '', role: 'READ_ONLY' } });
  const create = useMutation({
    mutationFn: async ({ name, role }: { name: string; role: KeyRole }) =>
      role === 'PARTNER_ADMIN'
        ? unwrap(await api.POST('/v1/partners/{partnerId}/api-keys', { params: { path: { partnerId: me!.partnerId! } }, body: { name } }))
        : unwrap(await api.POST('/v1/accounts/{accountId}/api-keys', { params: { path: { accountId } }, body: { name, role } })),
    onSuccess: (key) => {
      setCreated(key);
      setRevoked(null);
      reset();
      return queryClient.invalidateQueries({ queryKey: ['api-keys', accountId] });
    },
  });
  const revoke = useMutation({
    mutationFn: async (key: ApiKey) => unwrap(await api.DELETE('/v1/accounts/{accountId}/api-keys/{keyId}', { params: { path: { accountId, keyId: key.id } } })),
    onSuccess: (key) => {
      setConfirming(null);
      setRevoked(key.name);
      return queryClient.invalidateQueries({ queryKey: ['api-keys', accountId] });
    },
  });
  const columns = useMemo(
    () => [
      column.accessor('name', { header: () => t('admin.apiKeys.name') }),
      column.accessor('prefix', { header: () => t('admin.apiKeys.prefix'), cell: (cell) => <code>{`mw_${cell.getValue()}_…`}</code> }),
      column.accessor('role', { header: () => t('admin.apiKeys.role'), cell: (cell) => t(`roles.${cell.getValue()}`) }),
      column.accessor('createdAt', { header: () => t('admin.apiKeys.created'), cell: (cell) => <DateTime value={cell.getValue()} /> }),
      column.accessor('lastUsedAt', { header: () => t('admin.apiKeys.lastUsed'), cell: (cell) => (cell.getValue() ? <DateTime value={cell.getValue()} /> : t('admin.apiKeys.never')) }),
      column.accessor('revokedAt', {
        header: () => t('admin.apiKeys.status'),
        cell: (cell) => (cell.getValue() ? <span className="pill failed">{t('admin.apiKeys.revoked')}</span> : <span className="pill done">{t('admin.apiKeys.active')}</span>),
      }),
      ...(canChange
        ? [
            column.display({
              id: 'actions',
              header: () => t('common.actions'),
              cell: ({ row }) => {
                const key = row.original;
                if (key.revokedAt) return null;
                return confirming === key.id ? (
                  <div className="row-actions">
                    <button type="button" className="danger small" onClick={() => revoke.mutate(key)} aria-label={t('admin.apiKeys.confirmRevokeOf', { name: key.name })}>
                      {t('admin.apiKeys.confirmRevoke')}
                    </button>
                    <button type="button" className="secondary small" onClick={() => setConfirming(null)}>
                      {t('admin.common.cancel')}
                    </button>
                  </div>
                ) : (
                  <button type="button" className="danger small" onClick={() => setConfirming(key.id)} aria-label={t('admin.apiKeys.revokeOf', { name: key.name })}>
                    {t('admin.apiKeys.revoke')}
                  </button>
                );
              },
            }),
          ]
        : []),
    ],
    [t, canChange, confirming, revoke],
  );
  const table = useReactTable({ data: keys.data?.items ?? [], columns, getRowId: (key) => key.id, getCoreRowModel: getCoreRowModel() });
  return (
    <Page title={t('admin.apiKeys.title')}>
      <p className="hint">{t('admin.apiKeys.intro')}</p>
      {canChange && (
        <form className="inline-form" data-testid="api-key-form" onSubmit={handleSubmit((values) => create.mutate(values))} aria-label={t('admin.apiKeys.create')}>
          <label>
            {t('admin.apiKeys.name')}
            <input {...register('name', { required: true, maxLength: 100 })} placeholder={t('admin.apiKeys.namePlaceholder')} />
          </label>
          <label>
            {t('admin.apiKeys.role')}
            <select {...register('role')}>
              <RoleOptions roles={roles} />
            </select>
          </label>
          <button type="submit" disabled={create.isPending}>
            {t('admin.apiKeys.create')}
          </button>
        </form>
      )}
      {created && (
        <div className="success" role="status" data-testid="created-key">
          <p>
            <strong>{t('admin.apiKeys.createdOnce', { name: created.name })}</strong>
          </p>
          {created.role === 'PARTNER_ADMIN' && <p>{t('admin.apiKeys.partnerKeyNotListed')}</p>}
          <p className="secret">
            <code data-testid="created-key-secret">{created.key}</code> <CopyButton text={created.key} label={t('admin.apiKeys.copy')} />
          </p>
          <button type="button" className="secondary small" onClick={() => setCreated(null)}>
            {t('admin.apiKeys.hideSecret')}
          </button>
        </div>
      )}
      {revoked && (
        <p className="success" role="status">
          {t('admin.apiKeys.revokedDone', { name: revoked })}
        </p>
      )}
      <ErrorMessage error={keys.error ?? create.error ?? revoke.error} />
      <DataTable table={table} caption={t('admin.apiKeys.title')} testId="api-keys-table" />
      {keys.data && keys.data.items.length === 0 && <p className="muted">{t('admin.apiKeys.empty')}</p>}
      <Pager cursors={cursors} setCursors={setCursors} nextCursor={keys.data?.nextCursor} />
    </Page>
  );
}

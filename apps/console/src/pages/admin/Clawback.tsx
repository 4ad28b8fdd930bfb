import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../../api/client';
import type { components } from '../../api/schema';
import { DateTime, ErrorMessage, useEnumLabel } from '../../components/common';
import { useSession } from '../../session';

type Remediation = components['schemas']['RemediationDto'];
const ACTIONS = ['MOVE_TO_JUNK', 'MOVE_TO_DELETED_ITEMS', 'SOFT_DELETE', 'HARD_DELETE'] as const;
type Action = (typeof ACTIONS)[number];
const RUNNING = new Set(['QUEUED', 'IN_PROGRESS']);
const FINISHED = new Set(['COMPLETED', 'COMPLETED_WITH_ERRORS']);
/** Where a message is in the recipients' mailboxes: delivered by us (gateway) or by Microsoft 365 itself (journal). */
const IN_MAILBOXES = new Set(['DELIVERED', 'NOT_APPLICABLE']);

/** May this remediation be undone (the API's rule: a finished move or soft delete, not restored already)? */
const restorable = (remediation: Remediation, all: Remediation[]) =>
  remediation.action !== 'HARD_DELETE' &&
  remediation.action !== 'RESTORE_TO_INBOX' &&
  FINISHED.has(remediation.status) &&
  !all.some((other) => other.restoreOf === remediation.id && other.status !== 'FAILED');

/**
 * Microsoft 365 clawback of one message: the buttons (not for read-only people, nor where the account is not
 * connected or the message never reached a mailbox) and every clawback and restore with its mailboxes' states.
 */
export function Clawback({ accountId, messageId, deliveryState }: { accountId: string; messageId: string; deliveryState: string }) {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const { canChange } = useSession();
  const queryClient = useQueryClient();
  const [action, setAction] = useState<Action>('MOVE_TO_DELETED_ITEMS');
  const connection = useQuery({
    queryKey: ['microsoft365', accountId],
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/integrations/microsoft365', { params: { path: { accountId } } })),
  });
  const remediations = useQuery({
    queryKey: ['remediations', accountId, messageId],
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/messages/{messageId}/remediations', { params: { path: { accountId, messageId } } })),
    // While one runs in the background, its state is read again every 2 s.
    refetchInterval: (query) => (query.state.data?.some((remediation) => RUNNING.has(remediation.status)) ? 2_000 : false),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['remediations', accountId, messageId] });
  const clawBack = useMutation({
    mutationFn: async (chosen: Action) => unwrap(await api.POST('/v1/accounts/{accountId}/messages/{messageId}/remediations', { params: { path: { accountId, messageId } }, body: { action: chosen } })),
    onSettled: refresh,
  });
  const restore = useMutation({
    mutationFn: async (remediationId: string) => unwrap(await api.POST('/v1/accounts/{accountId}/remediations/{remediationId}/restore', { params: { path: { accountId, remediationId } } })),
    onSettled: refresh,
  });
  const connected = connection.data?.appConfigured === true && connection.data.connected;
  const items = remediations.data ?? [];
  const busy = items.some((remediation) => RUNNING.has(remediation.status));
  const canClawBack = canChange && connected && IN_MAILBOXES.has(deliveryState);
  if (!connected && items.length === 0) return null;
  return (
    <section className="card" aria-labelledby="clawback-heading" data-testid="clawback">
      <h2 id="clawback-heading">{t('admin.clawback.title')}</h2>
      {canClawBack && (
        <div className="inline-form">
          <label>
            {t('admin.clawback.action')}
            <select value={action} onChange={(event) => setAction(event.target.value as Action)} aria-describedby="clawback-action-hint">
              {ACTIONS.map((value) => (
                <option key={value} value={value}>
                  {t(`admin.clawback.actions.${value}`)}
                </option>
              ))}
            </select>
          </label>
          <button type="button" className="danger" disabled={busy || clawBack.isPending} onClick={() => clawBack.mutate(action)}>
            {t('admin.clawback.clawBack')}
          </button>
          <p className="hint" id="clawback-action-hint">
            {t(`admin.clawback.hints.${action}`)}
          </p>
        </div>
      )}
      <ErrorMessage error={connection.error ?? remediations.error ?? clawBack.error ?? restore.error} />
      {items.length === 0 ? (
        <p className="muted">{t('admin.clawback.none')}</p>
      ) : (
        <ol className="timeline" data-testid="remediations">
          {items.map((remediation) => (
            <li key={remediation.id} data-testid={`remediation-${remediation.id}`}>
              <p>
                <DateTime value={remediation.createdAt} /> <strong>{t(`admin.clawback.actions.${remediation.action}`, { defaultValue: remediation.action })}</strong>{' '}
                <span className={`pill ${remediation.status.toLowerCase()}`} role="status">
                  {t(`admin.clawback.status.${remediation.status}`, { defaultValue: remediation.status })}
                </span>{' '}
                {t('admin.clawback.requestedBy', { actor: remediation.requestedBy.replace(/^user:/, '') })}
                {remediation.finishedAt && (
                  <>
                    {' · '}
                    {t('admin.clawback.finished')} <DateTime value={remediation.finishedAt} />
                  </>
                )}
              </p>
              <ul>
                {(remediation.items ?? []).map((item) => (
                  <li key={item.recipient}>
                    {item.recipient}: {t(`admin.clawback.itemStatus.${item.status}`, { defaultValue: item.status })}
                    {item.errorCode || item.errorMessage ? ` (${[item.errorCode, item.errorMessage].filter(Boolean).join(': ')})` : ''}
                  </li>
                ))}
                {!remediation.items &&
                  Object.entries(remediation.counts).map(([status, count]) => (
                    <li key={status}>
                      {t(`admin.clawback.itemStatus.${status}`, { defaultValue: status })}: {count}
                    </li>
                  ))}
              </ul>
              {canChange && connected && restorable(remediation, items) && (
                <button type="button" className="secondary small" disabled={busy || restore.isPending} onClick={() => restore.mutate(remediation.id)}>
                  {t('admin.clawback.restore')}
                </button>
              )}
            </li>
          ))}
        </ol>
      )}
      {connected && !IN_MAILBOXES.has(deliveryState) && <p className="hint">{t('admin.clawback.notInMailboxes', { state: label('deliveryState', deliveryState) })}</p>}
    </section>
  );
}

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../../api/client';
import type { components } from '../../api/schema';
import { DateTime, ErrorMessage, Page, useAccountId } from '../../components/common';
import { Pager } from '../../components/DataTable';
import { LANGUAGES } from '../../i18n';
import { useSession } from '../../session';
import { RoleOptions } from './RoleOptions';

type User = components['schemas']['UserDto'];
type AccountRole = 'TENANT_ADMIN' | 'READ_ONLY';
type Change = components['schemas']['UpdateUserDto'];
const ACCOUNT_ROLES: AccountRole[] = ['TENANT_ADMIN', 'READ_ONLY'];
/** What was just done, said in the language chosen now (the catalogue key under admin.users, and whom). */
interface Outcome {
  key: 'createdDone' | 'roleChanged' | 'disabledDone' | 'enabledDone' | 'passwordReset' | 'deleted';
  email: string;
}

interface NewUser {
  email: string;
  displayName: string;
  role: AccountRole;
  password: string;
  locale: (typeof LANGUAGES)[number];
}

function CreateUserForm({ accountId, onCreated }: { accountId: string; onCreated: (user: User) => void }) {
  const { t } = useTranslation();
  const { register, handleSubmit, reset } = useForm<NewUser>({ defaultValues: { email: '', displayName: '', role: 'READ_ONLY', password: '', locale: 'en' } });
  const create = useMutation({
    mutationFn: async ({ password, ...values }: NewUser) =>
      unwrap(await api.POST('/v1/users', { body: { ...values, accountId, ...(password ? { password } : {}) } })),
    onSuccess: (user) => {
      reset();
      onCreated(user);
    },
  });
  return (
    <form className="card" data-testid="user-form" onSubmit={handleSubmit((values) => create.mutate(values))} aria-labelledby="new-user-heading">
      <h2 id="new-user-heading">{t('admin.users.create')}</h2>
      <div className="filters">
        <label>
          {t('admin.users.email')}
          <input type="email" autoComplete="off" {...register('email', { required: true })} />
        </label>
        <label>
          {t('admin.users.displayName')}
          <input {...register('displayName', { required: true })} />
        </label>
        <label>
          {t('admin.users.role')}
          <select {...register('role')}>
            <RoleOptions roles={ACCOUNT_ROLES} />
          </select>
        </label>
        <label>
          {t('admin.users.language')}
          <select {...register('locale')}>
            {LANGUAGES.map((language) => (
              <option key={language} value={language} lang={language}>
                {t(`languages.${language}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('admin.users.initialPassword')}
          <input type="password" autoComplete="new-password" {...register('password')} aria-describedby="initial-password-hint" />
        </label>
      </div>
      <p className="hint" id="initial-password-hint">
        {t('admin.users.initialPasswordHint')}
      </p>
      <button type="submit" disabled={create.isPending}>
        {t('admin.users.createButton')}
      </button>
      <ErrorMessage error={create.error} />
    </form>
  );
}

/** One person: role, disable or enable, a new password (ends their sessions), delete (after a confirmation). */
function UserCard({ user, canChange, self, onChanged }: { user: User; canChange: boolean; self: boolean; onChanged: (outcome: Outcome) => void }) {
  const { t } = useTranslation();
  const [resetting, setResetting] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const { register, handleSubmit, reset } = useForm({ defaultValues: { password: '' } });
  const update = useMutation({
    mutationFn: async (change: Change) => unwrap(await api.PATCH('/v1/users/{userId}', { params: { path: { userId: user.id } }, body: change })),
    onSuccess: (_user, change) => {
      setResetting(false);
      reset();
      const key = change.password ? 'passwordReset' : change.disabled !== undefined ? (change.disabled ? 'disabledDone' : 'enabledDone') : 'roleChanged';
      onChanged({ key, email: user.email });
    },
  });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE('/v1/users/{userId}', { params: { path: { userId: user.id } } })),
    onSuccess: () => onChanged({ key: 'deleted', email: user.email }),
  });
  const manageable = canChange && !self && user.role !== 'PARTNER_ADMIN';
  return (
    <article className="card" data-testid={`user-${user.email}`}>
      <h2>
        {user.displayName} <span className="muted">{user.email}</span>
      </h2>
      <dl className="facts">
        <dt>{t('admin.users.role')}</dt>
        <dd>{t(`roles.${user.role}`)}</dd>
        <dt>{t('admin.users.status')}</dt>
        <dd>{user.disabled ? <span className="pill failed">{t('admin.users.disabled')}</span> : <span className="pill done">{t('admin.users.active')}</span>}</dd>
        <dt>{t('admin.users.signIn')}</dt>
        <dd>
          {[user.hasPassword ? t('admin.users.password') : null, user.oidcLinked ? t('admin.users.oidc') : null, user.totpEnabled ? t('admin.users.totp') : null].filter(Boolean).join(' · ') ||
            t('admin.users.noSignIn')}
        </dd>
        <dt>{t('admin.users.created')}</dt>
        <dd>
          <DateTime value={user.createdAt} />
        </dd>
      </dl>
      {manageable && (
        <div className="form-actions">
          <label>
            {t('admin.users.changeRoleOf', { email: user.email })}
            <select value={user.role} onChange={(event) => update.mutate({ role: event.target.value as AccountRole })}>
              <RoleOptions roles={ACCOUNT_ROLES} />
            </select>
          </label>
          <button type="button" className="secondary" onClick={() => update.mutate({ disabled: !user.disabled })}>
            {user.disabled ? t('admin.users.enable') : t('admin.users.disable')}
          </button>
          <button type="button" className="secondary" onClick={() => setResetting(!resetting)} aria-expanded={resetting}>
            {t('admin.users.resetPassword')}
          </button>
          {deleting ? (
            <>
              <button type="button" className="danger" onClick={() => remove.mutate()}>
                {t('admin.users.confirmDelete', { email: user.email })}
              </button>
              <button type="button" className="secondary" onClick={() => setDeleting(false)}>
                {t('admin.common.cancel')}
              </button>
            </>
          ) : (
            <button type="button" className="danger" onClick={() => setDeleting(true)}>
              {t('admin.users.delete')}
            </button>
          )}
        </div>
      )}
      {manageable && resetting && (
        <form className="inline-form" onSubmit={handleSubmit((values) => update.mutate({ password: values.password }))}>
          <label>
            {t('admin.users.newPasswordFor', { email: user.email })}
            <input type="password" autoComplete="new-password" {...register('password', { required: true, minLength: 12 })} />
          </label>
          <button type="submit">{t('admin.users.setPassword')}</button>
          <span className="hint">{t('admin.users.resetHint')}</span>
        </form>
      )}
      <ErrorMessage error={update.error ?? remove.error} />
    </article>
  );
}

/** The people who sign in to this tenant: list, create, change role, disable, reset the password, delete. */
export default function Users() {
  const { t } = useTranslation();
  const accountId = useAccountId();
  const { me, canChange } = useSession();
  const queryClient = useQueryClient();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const cursor = cursors[cursors.length - 1];
  const users = useQuery({
    queryKey: ['users', accountId, cursor],
    queryFn: async () => unwrap(await api.GET('/v1/users', { params: { query: { accountId, limit: 25, ...(cursor ? { cursor } : {}) } } })),
  });
  const changed = (next: Outcome) => {
    setOutcome(next);
    void queryClient.invalidateQueries({ queryKey: ['users', accountId] });
  };
  return (
    <Page title={t('admin.users.title')}>
      {canChange && <CreateUserForm accountId={accountId} onCreated={(user) => changed({ key: 'createdDone', email: user.email })} />}
      {outcome && (
        <p className="success" role="status">
          {t(`admin.users.${outcome.key}`, { email: outcome.email })}
        </p>
      )}
      <ErrorMessage error={users.error} />
      <div data-testid="users">
        {users.data?.items.map((user) => (
          <UserCard key={user.id} user={user} canChange={canChange} self={user.id === me?.id} onChanged={changed} />
        ))}
      </div>
      {users.data && users.data.items.length === 0 && <p className="muted">{t('admin.users.empty')}</p>}
      <Pager cursors={cursors} setCursors={setCursors} nextCursor={users.data?.nextCursor} />
    </Page>
  );
}

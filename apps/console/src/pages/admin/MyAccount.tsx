import { useMutation } from '@tanstack/react-query';
import { QRCodeSVG } from 'qrcode.react';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api, unwrap } from '../../api/client';
import { signOut } from '../../api/auth';
import type { components } from '../../api/schema';
import { ErrorMessage, Page } from '../../components/common';
import { useSession } from '../../session';

type TotpSetup = components['schemas']['TotpSetupDto'];

/** Ends the session in the console after the API ended it (a password change or "everywhere"). */
function useSignedOut() {
  const { signedOut } = useSession();
  const navigate = useNavigate();
  return () => {
    signedOut();
    navigate('/sign-in');
  };
}

function ChangePassword() {
  const { t } = useTranslation();
  const leave = useSignedOut();
  const { register, handleSubmit, watch } = useForm({ defaultValues: { currentPassword: '', newPassword: '', repeat: '' } });
  const change = useMutation({
    mutationFn: async (body: { currentPassword: string; newPassword: string }) => unwrap(await api.POST('/v1/auth/password', { body })),
    onSuccess: leave,
  });
  const mismatch = watch('repeat') !== '' && watch('repeat') !== watch('newPassword');
  return (
    <form className="card" onSubmit={handleSubmit(({ currentPassword, newPassword }) => change.mutate({ currentPassword, newPassword }))} aria-labelledby="password-heading">
      <h2 id="password-heading">{t('admin.account.changePassword')}</h2>
      <p className="hint">{t('admin.account.passwordHint')}</p>
      <label>
        {t('admin.account.currentPassword')}
        <input type="password" autoComplete="current-password" {...register('currentPassword', { required: true })} />
      </label>
      <label>
        {t('admin.account.newPassword')}
        <input type="password" autoComplete="new-password" {...register('newPassword', { required: true, minLength: 12 })} />
      </label>
      <label>
        {t('admin.account.repeatPassword')}
        <input type="password" autoComplete="new-password" {...register('repeat', { required: true })} aria-invalid={mismatch} />
      </label>
      {mismatch && (
        <p className="error" role="alert">
          {t('admin.account.passwordsDiffer')}
        </p>
      )}
      <button type="submit" disabled={mismatch || change.isPending}>
        {t('admin.account.savePassword')}
      </button>
      <ErrorMessage error={change.error} />
    </form>
  );
}

/** TOTP: set up (QR code, otpauth URI and secret), confirm with a code; or turn off with a code. */
function Totp() {
  const { t } = useTranslation();
  const { me, refresh } = useSession();
  const [setup, setSetup] = useState<TotpSetup | null>(null);
  const [done, setDone] = useState<'totpOn' | 'totpOff' | null>(null);
  const { register, handleSubmit, reset } = useForm({ defaultValues: { code: '' } });
  const start = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/auth/totp/setup')),
    onSuccess: (result) => {
      setDone(null);
      setSetup(result);
    },
  });
  const confirm = useMutation({
    mutationFn: async (code: string) => unwrap(me?.totpEnabled ? await api.POST('/v1/auth/totp/disable', { body: { code } }) : await api.POST('/v1/auth/totp/enable', { body: { code } })),
    onSuccess: async (result) => {
      setSetup(null);
      reset();
      setDone(result.totpEnabled ? 'totpOn' : 'totpOff');
      await refresh();
    },
  });
  const codeField = (
    <form className="inline-form" onSubmit={handleSubmit((values) => confirm.mutate(values.code.trim()))}>
      <label>
        {t('admin.account.totpCode')}
        <input inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" maxLength={6} {...register('code', { required: true, pattern: /^\s*\d{6}\s*$/ })} />
      </label>
      <button type="submit" className={me?.totpEnabled ? 'danger' : undefined} disabled={confirm.isPending}>
        {me?.totpEnabled ? t('admin.account.disableTotp') : t('admin.account.enableTotp')}
      </button>
    </form>
  );
  return (
    <section className="card" aria-labelledby="totp-heading" data-testid="totp">
      <h2 id="totp-heading">{t('admin.account.totp')}</h2>
      <p>
        {t('admin.account.totpStatus')}{' '}
        {me?.totpEnabled ? <span className="pill done">{t('admin.account.totpEnabled')}</span> : <span className="pill">{t('admin.account.totpNotEnabled')}</span>}
      </p>
      {done && (
        <p className="success" role="status">
          {t(`admin.account.${done}`)}
        </p>
      )}
      {me?.totpEnabled ? (
        <>
          <p className="hint">{t('admin.account.disableHint')}</p>
          {codeField}
        </>
      ) : setup ? (
        <>
          <ol>
            <li>{t('admin.account.scan')}</li>
            <li>{t('admin.account.confirmWithCode')}</li>
          </ol>
          <div className="qr">
            <QRCodeSVG value={setup.otpauthUri} size={192} marginSize={4} role="img" aria-label={t('admin.account.qrLabel')} />
          </div>
          <dl className="facts">
            <dt>{t('admin.account.secret')}</dt>
            <dd>
              <code data-testid="totp-secret">{setup.secret}</code>
            </dd>
            <dt>{t('admin.account.uri')}</dt>
            <dd>
              <code data-testid="totp-uri">{setup.otpauthUri}</code>
            </dd>
          </dl>
          {codeField}
        </>
      ) : (
        <button type="button" onClick={() => start.mutate()} disabled={start.isPending}>
          {t('admin.account.setUpTotp')}
        </button>
      )}
      <ErrorMessage error={start.error ?? confirm.error} />
    </section>
  );
}

function Sessions() {
  const { t } = useTranslation();
  const leave = useSignedOut();
  const everywhere = useMutation({ mutationFn: () => signOut(true), onSettled: leave });
  return (
    <section className="card" aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">{t('admin.account.sessions')}</h2>
      <p className="hint">{t('admin.account.sessionsHint')}</p>
      <button type="button" className="danger" onClick={() => everywhere.mutate()}>
        {t('layout.signOutEverywhere')}
      </button>
    </section>
  );
}

/** The signed-in person's own page: who they are, password, TOTP, sessions (read-only people too). */
export default function MyAccount() {
  const { t } = useTranslation();
  const { me } = useSession();
  return (
    <Page title={t('admin.account.title')}>
      <dl className="facts card">
        <dt>{t('admin.users.email')}</dt>
        <dd>{me?.email}</dd>
        <dt>{t('admin.users.displayName')}</dt>
        <dd>{me?.displayName}</dd>
        <dt>{t('admin.users.role')}</dt>
        <dd>{me ? t(`roles.${me.role}`) : ''}</dd>
      </dl>
      <ChangePassword />
      <Totp />
      <Sessions />
    </Page>
  );
}

import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { Navigate, useNavigate } from 'react-router';
import { ApiError } from '../api/client';
import { oidcProviders, oidcStartUrl, signIn } from '../api/auth';
import { ErrorMessage } from '../components/common';
import { useSession } from '../session';

interface Form {
  email: string;
  password: string;
  totpCode: string;
}

export default function SignIn() {
  const { t } = useTranslation();
  const { me, refresh } = useSession();
  const navigate = useNavigate();
  const [needsTotp, setNeedsTotp] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const { register, handleSubmit, formState } = useForm<Form>({ defaultValues: { email: '', password: '', totpCode: '' } });
  const providers = useQuery({ queryKey: ['oidc-providers'], queryFn: oidcProviders, retry: false });
  if (me) return <Navigate to="/" replace />;
  const onSubmit = async (form: Form) => {
    setError(null);
    try {
      await signIn({ email: form.email, password: form.password, ...(needsTotp && form.totpCode ? { totpCode: form.totpCode } : {}) });
      await refresh();
      navigate('/');
    } catch (caught) {
      if (caught instanceof ApiError && caught.problem.code === 'TOTP_REQUIRED' && !needsTotp) {
        setNeedsTotp(true);
        return;
      }
      setError(caught);
    }
  };
  return (
    <main id="main" className="sign-in">
      <h1>{t('signIn.title')}</h1>
      <form onSubmit={handleSubmit(onSubmit)} noValidate>
        <label>
          {t('signIn.email')}
          <input type="email" autoComplete="username" required {...register('email', { required: true })} />
        </label>
        <label>
          {t('signIn.password')}
          <input type="password" autoComplete="current-password" required {...register('password', { required: true })} />
        </label>
        {needsTotp && (
          <label>
            {t('signIn.totpCode')}
            <input inputMode="numeric" autoComplete="one-time-code" autoFocus {...register('totpCode', { required: true, pattern: /^\d{6}$/ })} />
          </label>
        )}
        {needsTotp && <p className="hint">{t('signIn.totpHint')}</p>}
        <ErrorMessage error={error} />
        <button type="submit" disabled={formState.isSubmitting}>
          {t('signIn.submit')}
        </button>
      </form>
      {providers.data && providers.data.length > 0 && (
        <div className="oidc">
          <p>{t('signIn.or')}</p>
          {providers.data.map((provider) => (
            <a key={provider.id} className="button secondary" href={oidcStartUrl(provider, '/console/')}>
              {t('signIn.withProvider', { name: provider.displayName })}
            </a>
          ))}
        </div>
      )}
    </main>
  );
}

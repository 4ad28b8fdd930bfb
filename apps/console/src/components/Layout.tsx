import { useQuery } from '@tanstack/react-query';
import { Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, NavLink, Outlet, useMatch, useNavigate } from 'react-router';
import { api, unwrap } from '../api/client';
import { signOut } from '../api/auth';
import { LANGUAGES } from '../i18n';
import { useSession } from '../session';

const TENANT_PAGES = ['dashboard', 'messages', 'quarantine', 'policies', 'domains', 'mode', 'journal'] as const;
/** Integrations → Microsoft 365, export (SIEM) destinations, Mimecast: under /t/:accountId/integrations/. */
const INTEGRATION_PAGES = ['microsoft365', 'export', 'mimecast'] as const;
/** The tenant's administration pages (pages/admin): path and catalogue key under admin.nav. */
const ADMIN_PAGES = [
  ['users', 'users'],
  ['api-keys', 'apiKeys'],
  ['audit', 'audit'],
] as const;

/** The account a page shows: its id from the URL, its name and mode from the API. */
export function useAccount(accountId: string | undefined) {
  return useQuery({
    queryKey: ['account', accountId],
    enabled: Boolean(accountId),
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}', { params: { path: { accountId: accountId! } } })),
  });
}

export function Layout() {
  const { t, i18n } = useTranslation();
  const { me, signedOut } = useSession();
  const navigate = useNavigate();
  const match = useMatch('/t/:accountId/*');
  const accountId = match?.params.accountId;
  const account = useAccount(accountId);
  const leave = async (everywhere: boolean) => {
    try {
      await signOut(everywhere);
    } finally {
      signedOut();
      navigate('/sign-in');
    }
  };
  return (
    <div className="shell">
      <a className="skip" href="#main">
        {t('layout.skipToContent')}
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          {t('layout.brand')}
        </Link>
        {me?.role === 'PARTNER_ADMIN' && (
          <NavLink to="/partner" end>
            {t('nav.partner')}
          </NavLink>
        )}
        {account.data && (
          <span className="tenant" data-testid="current-tenant">
            {account.data.name}
            <span className={account.data.monitorOnly ? 'badge monitor' : 'badge enforce'}>{account.data.monitorOnly ? t('mode.monitorOnly') : t('mode.enforcing')}</span>
          </span>
        )}
        <span className="spacer" />
        <label className="inline">
          {t('layout.language')}
          <select value={i18n.resolvedLanguage} onChange={(event) => void i18n.changeLanguage(event.target.value)}>
            {LANGUAGES.map((language) => (
              <option key={language} value={language}>
                {t(`languages.${language}`)}
              </option>
            ))}
          </select>
        </label>
        <span className="who">{me?.displayName || me?.email}</span>
        <NavLink to="/account">
          {t('admin.nav.myAccount')}
        </NavLink>
        <span className="role">{me ? t(`roles.${me.role}`) : ''}</span>
        <button type="button" className="link" onClick={() => void leave(false)}>
          {t('layout.signOut')}
        </button>
        <button type="button" className="link" onClick={() => void leave(true)}>
          {t('layout.signOutEverywhere')}
        </button>
      </header>
      <div className="body">
        {accountId && (
          <nav className="sidebar" aria-label={t('layout.tenantNavigation')}>
            <ul>
              {TENANT_PAGES.map((page) => (
                <li key={page}>
                  <NavLink to={`/t/${accountId}/${page}`}>{t(`nav.${page}`)}</NavLink>
                </li>
              ))}
              {ADMIN_PAGES.map(([path, key]) => (
                <li key={path}>
                  <NavLink to={`/t/${accountId}/${path}`}>{t(`admin.nav.${key}`)}</NavLink>
                </li>
              ))}
            </ul>
            <p className="nav-group" id="nav-integrations">
              {t('integrations.nav.title')}
            </p>
            <ul aria-labelledby="nav-integrations">
              {INTEGRATION_PAGES.map((page) => (
                <li key={page}>
                  <NavLink to={`/t/${accountId}/integrations/${page}`}>{t(`integrations.nav.${page}`)}</NavLink>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <main id="main" tabIndex={-1}>
          <Suspense fallback={<p role="status">{t('common.loading')}</p>}>
            <Outlet />
          </Suspense>
        </main>
      </div>
    </div>
  );
}

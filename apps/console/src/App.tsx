import { lazy, Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, Route, Routes } from 'react-router';
import { Layout } from './components/Layout';
import { useSession } from './session';

// Every page is its own chunk: the first load carries the shell and the page it opens.
const SignIn = lazy(() => import('./pages/SignIn'));
const Partner = lazy(() => import('./pages/Partner'));
const Dashboard = lazy(() => import('./pages/Dashboard'));
const Messages = lazy(() => import('./pages/Messages'));
const MessageDetail = lazy(() => import('./pages/MessageDetail'));
const Quarantine = lazy(() => import('./pages/Quarantine'));
const Policies = lazy(() => import('./pages/Policies'));
const Domains = lazy(() => import('./pages/Domains'));
const Mode = lazy(() => import('./pages/Mode'));
const Journal = lazy(() => import('./pages/Journal'));
const Microsoft365 = lazy(() => import('./pages/integrations/Microsoft365'));
const ExportDestinations = lazy(() => import('./pages/integrations/Export'));
const Mimecast = lazy(() => import('./pages/integrations/Mimecast'));
const ApiKeys = lazy(() => import('./pages/admin/ApiKeys'));
const Audit = lazy(() => import('./pages/admin/Audit'));
const Users = lazy(() => import('./pages/admin/Users'));
const MyAccount = lazy(() => import('./pages/admin/MyAccount'));

function Loading() {
  const { t } = useTranslation();
  return (
    <p className="loading" role="status">
      {t('common.loading')}
    </p>
  );
}

function Home() {
  const { me } = useSession();
  if (!me) return <Navigate to="/sign-in" replace />;
  if (me.role === 'PARTNER_ADMIN') return <Navigate to="/partner" replace />;
  return <Navigate to={`/t/${me.accountId}/dashboard`} replace />;
}

function RequireSession({ children }: { children: React.ReactNode }) {
  const { me, loading } = useSession();
  if (loading) return <Loading />;
  if (!me) return <Navigate to="/sign-in" replace />;
  return <>{children}</>;
}

export function App() {
  const { loading } = useSession();
  if (loading) return <Loading />;
  return (
    <Suspense fallback={<Loading />}>
      <Routes>
        <Route path="/sign-in" element={<SignIn />} />
        <Route
          element={
            <RequireSession>
              <Layout />
            </RequireSession>
          }
        >
          <Route path="/" element={<Home />} />
          <Route path="/partner" element={<Partner />} />
          <Route path="/t/:accountId/dashboard" element={<Dashboard />} />
          <Route path="/t/:accountId/messages" element={<Messages />} />
          <Route path="/t/:accountId/messages/:messageId" element={<MessageDetail />} />
          <Route path="/t/:accountId/quarantine" element={<Quarantine />} />
          <Route path="/t/:accountId/policies" element={<Policies />} />
          <Route path="/t/:accountId/domains" element={<Domains />} />
          <Route path="/t/:accountId/mode" element={<Mode />} />
          <Route path="/t/:accountId/journal" element={<Journal />} />
          <Route path="/t/:accountId/integrations/microsoft365" element={<Microsoft365 />} />
          <Route path="/t/:accountId/integrations/export" element={<ExportDestinations />} />
          <Route path="/t/:accountId/integrations/mimecast" element={<Mimecast />} />
          <Route path="/t/:accountId/api-keys" element={<ApiKeys />} />
          <Route path="/t/:accountId/audit" element={<Audit />} />
          <Route path="/t/:accountId/users" element={<Users />} />
          <Route path="/account" element={<MyAccount />} />
          <Route path="*" element={<Home />} />
        </Route>
      </Routes>
    </Suspense>
  );
}

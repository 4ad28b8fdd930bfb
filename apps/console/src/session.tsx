import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useContext } from 'react';
import { ApiError, setCsrfToken } from './api/client';
import { i18n, pickLanguage } from './i18n';
import { fetchMe, type Me } from './api/auth';

interface SessionState {
  me: Me | null;
  loading: boolean;
  /** May this person change anything (every role but READ_ONLY)? */
  canChange: boolean;
  refresh(): Promise<void>;
  signedOut(): void;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: ['me'],
    queryFn: async () => {
      try {
        const me = await fetchMe();
        setCsrfToken(me.csrfToken);
        const language = pickLanguage([localStorage.getItem('mw.language'), me.locale]);
        if (language !== i18n.language) await i18n.changeLanguage(language);
        return me;
      } catch (error) {
        if (error instanceof ApiError && error.problem.status === 401) {
          setCsrfToken(null);
          return null;
        }
        throw error;
      }
    },
    staleTime: 60_000,
    retry: false,
  });
  const me = query.data ?? null;
  const state: SessionState = {
    me,
    loading: query.isPending,
    canChange: me !== null && me.role !== 'READ_ONLY',
    refresh: async () => {
      await queryClient.invalidateQueries({ queryKey: ['me'] });
    },
    signedOut: () => {
      setCsrfToken(null);
      queryClient.clear();
      queryClient.setQueryData(['me'], null);
    },
  };
  return <SessionContext.Provider value={state}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSession outside SessionProvider');
  return state;
}

import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { ApiError } from '../api/client';
import { formatDateTime, formatNumber } from '../i18n';

export function useAccountId(): string {
  const { accountId } = useParams();
  return accountId!;
}

/** An API refusal in the user's language (its code), with the server's detail as given. */
export function ErrorMessage({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!error) return null;
  const code = error instanceof ApiError ? error.problem.code : 'INTERNAL';
  const detail = error instanceof ApiError ? error.problem.detail : String(error);
  return (
    <div className="error" role="alert">
      <strong>{t([`errors.${code}`, `admin.errors.${code}`, 'errors.generic'])}</strong> {detail && <span className="detail">{detail}</span>}
    </div>
  );
}

export function Page({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="page">
      <div className="page-head">
        <h1>{title}</h1>
        {actions}
      </div>
      {children}
    </section>
  );
}

export function DateTime({ value }: { value: string | null | undefined }) {
  const { i18n } = useTranslation();
  return value ? <time dateTime={value}>{formatDateTime(value, i18n.resolvedLanguage ?? 'en')}</time> : null;
}

export function Num({ value }: { value: number }) {
  const { i18n } = useTranslation();
  return <>{formatNumber(value, i18n.resolvedLanguage ?? 'en')}</>;
}

/** A value the API sends as an enum, shown through the catalogue (unknown values as they are). */
export function useEnumLabel() {
  const { t } = useTranslation();
  return (group: string, value: string | null | undefined) => (value ? t(`enums.${group}.${value}`, { defaultValue: value }) : '');
}

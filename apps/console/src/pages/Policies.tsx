import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useForm } from 'react-hook-form';
import { useTranslation } from 'react-i18next';
import { ApiError, api, unwrap } from '../api/client';
import { ErrorMessage, Page, useAccountId, useEnumLabel } from '../components/common';
import { useSession } from '../session';

type Scope = 'account' | 'domain' | 'group' | 'user';
type Kind = 'email-security' | 'data-control';
interface Option {
  source: { level: string; id: string | null };
  locked: boolean;
  lockedBy?: { level: string };
}

/** Sender checks in Sophos's order, with its choices; the defaults are libs/policy's (DMARC follows the sender's policy). */
const CHECKS = [
  { key: 'dmarc', actions: ['FOLLOW_SENDER_POLICY', 'TAG_SUBJECT', 'QUARANTINE', 'REJECT', 'DELIVER'], defaultAction: 'FOLLOW_SENDER_POLICY' },
  { key: 'spf', actions: ['REJECT', 'QUARANTINE', 'TAG_SUBJECT', 'DELIVER'], defaultAction: 'REJECT' },
  { key: 'dkim', actions: ['TAG_SUBJECT', 'QUARANTINE', 'REJECT', 'DELIVER'], defaultAction: 'TAG_SUBJECT' },
  { key: 'headerAnomaly', actions: ['TAG_SUBJECT', 'QUARANTINE', 'REJECT', 'DELIVER'], defaultAction: 'TAG_SUBJECT' },
] as const;
const BLOCK_ACTIONS = ['REJECT', 'QUARANTINE', 'TAG_SUBJECT'];
const RULE_ACTIONS = ['QUARANTINE', 'REJECT', 'TAG_SUBJECT', 'DELIVER'];
const DIRECTIONS = ['INBOUND', 'OUTBOUND', 'INTERNAL'];

interface EmailForm {
  checks: Record<string, { enabled: string; action: string }>;
  allow: string;
  block: string;
  blockAction: string;
  subjectTag: string;
}

const get = (value: unknown, path: string): unknown => path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), value);
const lines = (text: string) =>
  text
    .split(/[\n,]/)
    .map((line) => line.trim().toLowerCase())
    .filter(Boolean);
const splitList = (text: string) => ({ domains: lines(text).filter((entry) => !entry.includes('@')), addresses: lines(text).filter((entry) => entry.includes('@')) });
const joinList = (list: unknown) => {
  const value = (list ?? {}) as { domains?: string[]; addresses?: string[] };
  return [...(value.domains ?? []), ...(value.addresses ?? [])].join('\n');
};

function LockNote({ option }: { option: Option | undefined }) {
  const { t } = useTranslation();
  if (!option?.locked) return null;
  return <span className="lock">{t('policies.lockedBy', { level: t(`policies.level.${option.lockedBy?.level ?? 'PARTNER'}`) })}</span>;
}

function EmailSecurity({ stored, options, readOnly, onSave }: { stored: Record<string, unknown>; options: Record<string, Option>; readOnly: boolean; onSave: (settings: Record<string, unknown>) => void }) {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const locked = (path: string) => options[path]?.locked === true;
  const defaults = (): EmailForm => ({
    checks: Object.fromEntries(
      CHECKS.map((check) => {
        const enabled = get(stored, `senderChecks.${check.key}.enabled`);
        const action = get(stored, `senderChecks.${check.key}.action`);
        return [check.key, { enabled: enabled === undefined ? '' : String(enabled), action: typeof action === 'string' ? action : '' }];
      }),
    ),
    allow: joinList(stored.allowList),
    block: joinList(stored.blockList),
    blockAction: typeof stored.blockAction === 'string' ? stored.blockAction : '',
    subjectTag: typeof stored.subjectTag === 'string' ? stored.subjectTag : '',
  });
  const { register, handleSubmit, reset } = useForm<EmailForm>({ defaultValues: defaults() });
  // The stored policy changes (another level chosen, or saved): the form shows it.
  useEffect(() => reset(defaults()), [stored]);
  const submit = (form: EmailForm) => {
    const senderChecks: Record<string, unknown> = {};
    for (const check of CHECKS) {
      const entry: Record<string, unknown> = {};
      const value = form.checks[check.key]!;
      if (value.enabled !== '' && !locked(`senderChecks.${check.key}.enabled`)) entry.enabled = value.enabled === 'true';
      if (value.action !== '' && !locked(`senderChecks.${check.key}.action`)) entry.action = value.action;
      if (Object.keys(entry).length > 0) senderChecks[check.key] = entry;
    }
    const settings: Record<string, unknown> = { senderChecks };
    if (!locked('allowList.domains') && !locked('allowList.addresses')) settings.allowList = splitList(form.allow);
    if (!locked('blockList.domains') && !locked('blockList.addresses')) settings.blockList = splitList(form.block);
    if (form.blockAction && !locked('blockAction')) settings.blockAction = form.blockAction;
    if (form.subjectTag && !locked('subjectTag')) settings.subjectTag = form.subjectTag;
    onSave(settings);
  };
  return (
    <form onSubmit={handleSubmit(submit)} data-testid="email-security-form">
      <fieldset>
        <legend>{t('policies.senderChecks')}</legend>
        <table className="grid">
          <thead>
            <tr>
              <th scope="col">{t('policies.check')}</th>
              <th scope="col">{t('policies.enabled')}</th>
              <th scope="col">{t('policies.onFailure')}</th>
              <th scope="col">{t('policies.source')}</th>
            </tr>
          </thead>
          <tbody>
            {CHECKS.map((check) => {
              const actionPath = `senderChecks.${check.key}.action`;
              const enabledPath = `senderChecks.${check.key}.enabled`;
              return (
                <tr key={check.key}>
                  <th scope="row">{label('check', check.key)}</th>
                  <td>
                    <select aria-label={t('policies.enabledFor', { check: label('check', check.key) })} disabled={readOnly || locked(enabledPath)} {...register(`checks.${check.key}.enabled`)}>
                      <option value="">{t('policies.inherit')}</option>
                      <option value="true">{t('policies.on')}</option>
                      <option value="false">{t('policies.off')}</option>
                    </select>
                    <LockNote option={options[enabledPath]} />
                  </td>
                  <td>
                    <select aria-label={t('policies.actionFor', { check: label('check', check.key) })} disabled={readOnly || locked(actionPath)} {...register(`checks.${check.key}.action`)}>
                      <option value="">{t('policies.inheritDefault', { action: label('dmarcAction', check.defaultAction) })}</option>
                      {check.actions.map((action) => (
                        <option key={action} value={action}>
                          {label('dmarcAction', action)}
                          {action === check.defaultAction ? ` (${t('policies.default')})` : ''}
                        </option>
                      ))}
                    </select>
                    <LockNote option={options[actionPath]} />
                  </td>
                  <td>{options[actionPath] ? t(`policies.level.${options[actionPath].source.level}`) : ''}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        <p className="hint">{t('policies.orderHint')}</p>
      </fieldset>
      <fieldset>
        <legend>{t('policies.lists')}</legend>
        <p className="hint">{t('policies.listsHint')}</p>
        <label>
          {t('policies.allowList')}
          <textarea rows={4} disabled={readOnly || locked('allowList.domains')} {...register('allow')} />
        </label>
        <LockNote option={options['allowList.domains']} />
        <label>
          {t('policies.blockList')}
          <textarea rows={4} disabled={readOnly || locked('blockList.domains')} {...register('block')} />
        </label>
        <LockNote option={options['blockList.domains']} />
        <label>
          {t('policies.blockAction')}
          <select disabled={readOnly || locked('blockAction')} {...register('blockAction')}>
            <option value="">{t('policies.inherit')}</option>
            {BLOCK_ACTIONS.map((action) => (
              <option key={action} value={action}>
                {label('action', action)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('policies.subjectTag')}
          <input disabled={readOnly || locked('subjectTag')} {...register('subjectTag')} />
        </label>
      </fieldset>
      {!readOnly && <button type="submit">{t('policies.save')}</button>}
    </form>
  );
}

interface Rule {
  id: string;
  name?: string;
  kind: string;
  enabled: boolean;
  action: string;
  directions: string[];
  keywords?: string[];
}

function DataControl({ stored, options, readOnly, onSave }: { stored: Record<string, unknown>; options: Record<string, Option>; readOnly: boolean; onSave: (settings: Record<string, unknown>) => void }) {
  const { t } = useTranslation();
  const label = useEnumLabel();
  const rules = (stored.rules as Rule[] | undefined) ?? [];
  const { register, handleSubmit, reset } = useForm({ defaultValues: { id: '', keywords: '', action: 'QUARANTINE', directions: ['OUTBOUND'] as string[] } });
  const add = (form: { id: string; keywords: string; action: string; directions: string[] }) => {
    const rule: Rule = { id: form.id, kind: 'keyword', enabled: true, action: form.action, directions: form.directions, keywords: lines(form.keywords) };
    onSave({ ...stored, rules: [...rules.filter((existing) => existing.id !== rule.id), rule] });
    reset();
  };
  return (
    <div data-testid="data-control">
      <table className="grid">
        <caption>{t('policies.rules')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('policies.ruleId')}</th>
            <th scope="col">{t('policies.ruleKind')}</th>
            <th scope="col">{t('policies.directions')}</th>
            <th scope="col">{t('policies.onMatch')}</th>
            <th scope="col">{t('policies.enabled')}</th>
            {!readOnly && <th scope="col">{t('common.actions')}</th>}
          </tr>
        </thead>
        <tbody>
          {rules.map((rule) => (
            <tr key={rule.id}>
              <th scope="row">
                {rule.name || rule.id} <LockNote option={options[`rules.${rule.id}`]} />
              </th>
              <td>{label('ruleKind', rule.kind)}</td>
              <td>{rule.directions.map((direction) => label('direction', direction)).join(', ')}</td>
              <td>{label('action', rule.action)}</td>
              <td>{rule.enabled ? t('common.yes') : t('common.no')}</td>
              {!readOnly && (
                <td>
                  <button type="button" className="danger small" disabled={options[`rules.${rule.id}`]?.locked} onClick={() => onSave({ ...stored, rules: rules.filter((other) => other.id !== rule.id) })}>
                    {t('policies.removeRule')}
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {rules.length === 0 && <p className="muted">{t('policies.noRules')}</p>}
      {!readOnly && (
        <form className="card" onSubmit={handleSubmit(add)}>
          <h3>{t('policies.addKeywordRule')}</h3>
          <label>
            {t('policies.ruleId')}
            <input {...register('id', { required: true, pattern: /^[A-Za-z0-9_-]+$/ })} />
          </label>
          <label>
            {t('policies.keywords')}
            <input {...register('keywords', { required: true })} />
          </label>
          <fieldset>
            <legend>{t('policies.directions')}</legend>
            {DIRECTIONS.map((direction) => (
              <label key={direction} className="check">
                <input type="checkbox" value={direction} {...register('directions')} />
                {label('direction', direction)}
              </label>
            ))}
          </fieldset>
          <label>
            {t('policies.onMatch')}
            <select {...register('action')}>
              {RULE_ACTIONS.map((action) => (
                <option key={action} value={action}>
                  {label('action', action)}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">{t('policies.addRule')}</button>
        </form>
      )}
    </div>
  );
}

export default function Policies() {
  const { t } = useTranslation();
  const accountId = useAccountId();
  const { canChange } = useSession();
  const queryClient = useQueryClient();
  const [kind, setKind] = useState<Kind>('email-security');
  const [scope, setScope] = useState<Scope>('account');
  const [scopeId, setScopeId] = useState<string>(accountId);
  const [recipient, setRecipient] = useState('');
  const [saved, setSaved] = useState(false);
  const domains = useQuery({ queryKey: ['domains', accountId], queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/domains', { params: { path: { accountId }, query: { limit: 200 } } })) });
  const groups = useQuery({ queryKey: ['groups', accountId], queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/groups', { params: { path: { accountId }, query: { limit: 200 } } })) });
  const mailboxes = useQuery({ queryKey: ['mailboxes', accountId], queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/mailboxes', { params: { path: { accountId }, query: { limit: 200 } } })) });
  const scopeChoices: Record<Scope, { id: string; name: string }[]> = {
    account: [{ id: accountId, name: t('policies.level.ACCOUNT') }],
    domain: (domains.data?.items ?? []).map((domain) => ({ id: domain.id, name: domain.name })),
    group: (groups.data?.items ?? []).map((group) => ({ id: group.id, name: group.name })),
    user: (mailboxes.data?.items ?? []).map((mailbox) => ({ id: mailbox.id, name: mailbox.email })),
  };
  const probeRecipient = recipient || (domains.data?.items[0] ? `postmaster@${domains.data.items[0].name}` : '');
  const stored = useQuery({
    queryKey: ['policy', accountId, kind, scope, scopeId],
    enabled: Boolean(scopeId),
    queryFn: async () => {
      try {
        return unwrap(await api.GET('/v1/accounts/{accountId}/policies/{kind}/{scope}/{scopeId}', { params: { path: { accountId, kind, scope, scopeId } } }));
      } catch (error) {
        if (error instanceof ApiError && error.problem.status === 404) return null;
        throw error;
      }
    },
  });
  const effective = useQuery({
    queryKey: ['effective-policy', accountId, probeRecipient],
    enabled: Boolean(probeRecipient),
    queryFn: async () => unwrap(await api.GET('/v1/accounts/{accountId}/policies/effective', { params: { path: { accountId }, query: { recipient: probeRecipient } } })),
  });
  const save = useMutation({
    mutationFn: async (settings: Record<string, unknown>) =>
      unwrap(
        await api.PUT('/v1/accounts/{accountId}/policies/{kind}/{scope}/{scopeId}', {
          params: { path: { accountId, kind, scope, scopeId } },
          body: { settings, locks: stored.data?.locks ?? [] },
        }),
      ),
    onSuccess: () => {
      setSaved(true);
      return Promise.all([queryClient.invalidateQueries({ queryKey: ['policy', accountId] }), queryClient.invalidateQueries({ queryKey: ['effective-policy', accountId] })]);
    },
  });
  const resolved = (kind === 'email-security' ? effective.data?.emailSecurity : effective.data?.dataControl) as { options?: Record<string, Option>; settings?: Record<string, unknown> } | undefined;
  const options = resolved?.options ?? {};
  const settings = (stored.data?.settings ?? {}) as Record<string, unknown>;
  return (
    <Page title={t('policies.title')}>
      <div role="tablist" aria-label={t('policies.kinds')} className="tabs">
        {(['email-security', 'data-control'] as const).map((name) => (
          <button key={name} type="button" role="tab" aria-selected={kind === name} onClick={() => setKind(name)}>
            {t(`policies.kind.${name}`)}
          </button>
        ))}
      </div>
      <div className="inline-form">
        <label>
          {t('policies.levelLabel')}
          <select
            value={scope}
            onChange={(event) => {
              const next = event.target.value as Scope;
              setScope(next);
              setScopeId(next === 'account' ? accountId : (scopeChoices[next][0]?.id ?? ''));
            }}
          >
            {(['account', 'domain', 'group', 'user'] as const).map((name) => (
              <option key={name} value={name}>
                {t(`policies.level.${name.toUpperCase()}`)}
              </option>
            ))}
          </select>
        </label>
        {scope !== 'account' && (
          <label>
            {t('policies.scopeItem')}
            <select value={scopeId} onChange={(event) => setScopeId(event.target.value)}>
              {scopeChoices[scope].map((choice) => (
                <option key={choice.id} value={choice.id}>
                  {choice.name}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {saved && (
        <p className="success" role="status">
          {t('policies.saved')}
        </p>
      )}
      <ErrorMessage error={stored.error ?? save.error} />
      {scopeId && stored.isSuccess && kind === 'email-security' && <EmailSecurity stored={settings} options={options} readOnly={!canChange} onSave={(value) => save.mutate(value)} />}
      {scopeId && stored.isSuccess && kind === 'data-control' && <DataControl stored={settings} options={options} readOnly={!canChange} onSave={(value) => save.mutate(value)} />}
      {!scopeId && <p className="muted">{t('policies.noScopeItems')}</p>}
      <section className="card" aria-labelledby="effective-heading">
        <h2 id="effective-heading">{t('policies.effective')}</h2>
        <label>
          {t('policies.recipient')}
          <input type="email" defaultValue={probeRecipient} onBlur={(event) => setRecipient(event.target.value.trim())} />
        </label>
        <ErrorMessage error={effective.error} />
        {resolved && (
          <table className="grid" data-testid="effective-policy">
            <thead>
              <tr>
                <th scope="col">{t('policies.option')}</th>
                <th scope="col">{t('policies.value')}</th>
                <th scope="col">{t('policies.source')}</th>
                <th scope="col">{t('policies.locked')}</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(options).map(([path, option]) => (
                <tr key={path}>
                  <th scope="row">
                    <code>{path}</code>
                  </th>
                  <td>
                    <code>{JSON.stringify(get(resolved.settings, path) ?? (path.startsWith('rules.') ? path.slice(6) : null))}</code>
                  </td>
                  <td>{t(`policies.level.${option.source.level}`)}</td>
                  <td>{option.locked ? t('policies.lockedBy', { level: t(`policies.level.${option.lockedBy?.level ?? 'PARTNER'}`) }) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </Page>
  );
}

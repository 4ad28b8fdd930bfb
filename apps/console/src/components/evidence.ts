import type { TFunction } from 'i18next';

interface CheckRecord {
  check?: string;
  status?: string;
  action?: string;
  evidence?: Record<string, unknown>;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value));

/**
 * One check of a verdict in plain words, from its evidence (libs/sender-checks records): which identity was checked,
 * against what, and what came out. The raw record stays one click away on the page.
 */
export function describeCheck(record: CheckRecord, t: TFunction): string {
  const evidence = record.evidence ?? {};
  const status = record.status ?? 'none';
  const check = record.check ?? 'unknown';
  const parts: string[] = [t(`evidence.status.${status}`, { defaultValue: status, check: t(`enums.check.${check}`, { defaultValue: check }) })];
  if (check === 'dmarc') {
    if (evidence.fromDomain) parts.push(t('evidence.dmarc.fromDomain', { domain: str(evidence.fromDomain) }));
    if (evidence.policy || evidence.p) parts.push(t('evidence.dmarc.policy', { policy: str(evidence.policy ?? evidence.p) }));
    if (evidence.appliedPolicy) parts.push(t('evidence.dmarc.applied', { policy: str(evidence.appliedPolicy) }));
    if (evidence.skipReason) parts.push(t('evidence.dmarc.skipped', { reason: str(evidence.skipReason) }));
    const arc = evidence.arc as { overridesDmarcFailure?: boolean; sealer?: string } | undefined;
    if (arc?.overridesDmarcFailure) parts.push(t('evidence.dmarc.arcOverride', { sealer: str(arc.sealer) }));
  } else if (check === 'spf') {
    if (evidence.domain) parts.push(t('evidence.spf.checked', { domain: str(evidence.domain), ip: str(evidence.clientIp) }));
    if (evidence.record) parts.push(t('evidence.spf.record', { record: str(evidence.record) }));
  } else if (check === 'dkim') {
    const signatures = (evidence.signatures as { domain?: string; result?: string }[] | undefined) ?? [];
    parts.push(
      signatures.length === 0
        ? t('evidence.dkim.noSignature')
        : t('evidence.dkim.signatures', { list: signatures.map((signature) => `${str(signature.domain)} (${str(signature.result)})`).join(', ') }),
    );
  } else if (check === 'header-anomaly') {
    const headerFrom = (evidence.headerFrom as string[] | undefined) ?? [];
    if (headerFrom.length > 0) parts.push(t('evidence.headerAnomaly.from', { from: headerFrom.join(', '), envelope: str(evidence.envelopeSender) || '<>' }));
  }
  if (record.action && status === 'fail') parts.push(t('evidence.action', { action: t(`enums.action.${record.action}`, { defaultValue: record.action }) }));
  return parts.join(' ');
}

import type { ARCResult, DMARCResult } from 'mailauth';
import type { DmarcFailureAction, PolicyAction, SenderCheckSettings } from '@mailwarden/policy';
import type { DmarcCheckRecord, DmarcEvidence, DmarcPolicy } from '../sender-checks.types';
import { arcEvidence } from './arc.check';

const POLICY_ACTION_FOR: Record<DmarcPolicy, PolicyAction> = { none: 'DELIVER', quarantine: 'QUARANTINE', reject: 'REJECT' };
/** RFC 7489 6.6.4: a message not sampled by pct= gets the next policy down. */
const NEXT_POLICY_DOWN: Record<DmarcPolicy, DmarcPolicy> = { reject: 'quarantine', quarantine: 'none', none: 'none' };

function asPolicy(value: unknown): DmarcPolicy | undefined {
  return value === 'none' || value === 'quarantine' || value === 'reject' ? value : undefined;
}

/** DMARC check; the ARC-Seal chain is only validated when DMARC failed (the override is all it is used for). */
export async function dmarcCheck(
  evaluated: { dmarc: DMARCResult | false; skipReason?: string },
  arc: () => Promise<ARCResult>,
  settings: SenderCheckSettings,
  random: () => number,
): Promise<DmarcCheckRecord> {
  const { dmarc, skipReason } = evaluated;
  if (!dmarc) {
    // RFC 9989 5.3.1: no single author domain, DMARC cannot be evaluated
    return { check: 'dmarc', status: 'none', temporaryError: false, evidence: { result: 'none', ...(skipReason ? { skipReason } : {}) } };
  }
  const result = dmarc.status.result;
  const record = (dmarc as DMARCResult & { record?: { pct?: number } }).record;
  const pct = typeof record?.pct === 'number' ? Math.min(Math.max(record.pct, 0), 100) : 100;
  const policy = asPolicy(dmarc.policy);
  const evidence: DmarcEvidence = {
    result,
    ...(dmarc.status.header?.from ? { fromDomain: dmarc.status.header.from } : {}),
    ...(dmarc.policyDomain ? { policyDomain: dmarc.policyDomain } : {}),
    ...(dmarc.rr ? { record: dmarc.rr } : {}),
    ...(dmarc.p ? { p: dmarc.p, sp: dmarc.sp, pct } : {}),
    ...(dmarc.np ? { np: dmarc.np } : {}),
    ...(dmarc.rr ? { testMode: !!dmarc.testMode } : {}),
    ...(policy ? { policy } : {}),
    ...(dmarc.alignment
      ? {
          alignment: {
            spf: { domain: dmarc.alignment.spf?.result, strict: !!dmarc.alignment.spf?.strict },
            dkim: { domain: dmarc.alignment.dkim?.result, strict: !!dmarc.alignment.dkim?.strict },
          },
        }
      : {}),
  };

  if (result === 'temperror') {
    return {
      check: 'dmarc',
      status: 'temperror',
      temporaryError: true,
      // the sender's policy is not known: assume the strongest it could be
      actionIfFailed: settings.dmarc.action === 'FOLLOW_SENDER_POLICY' ? 'REJECT' : settings.dmarc.action,
      evidence,
    };
  }
  if (result !== 'fail') {
    const status = result === 'pass' || result === 'none' || result === 'permerror' ? result : 'permerror';
    return { check: 'dmarc', status, temporaryError: false, evidence };
  }

  evidence.arc = arcEvidence(await arc(), settings.trustedArcSealers, evidence.fromDomain);
  if (evidence.arc.overridesDmarcFailure) {
    // RFC 8617 7.2.1 / RFC 9989 11.7: a receiver may accept a DMARC failure on the word of a
    // trusted intermediary whose ARC set recorded a pass; the DMARC result itself stays `fail`
    return { check: 'dmarc', status: 'pass', temporaryError: false, evidence };
  }

  let appliedPolicy = policy ?? 'none';
  if (pct < 100) {
    evidence.sampled = random() * 100 < pct;
    if (!evidence.sampled) {
      appliedPolicy = NEXT_POLICY_DOWN[appliedPolicy];
    }
  }
  evidence.appliedPolicy = appliedPolicy;
  return { check: 'dmarc', status: 'fail', temporaryError: false, action: dmarcAction(settings.dmarc.action, appliedPolicy), evidence };
}

function dmarcAction(configured: DmarcFailureAction, appliedPolicy: DmarcPolicy): PolicyAction {
  return configured === 'FOLLOW_SENDER_POLICY' ? POLICY_ACTION_FOR[appliedPolicy] : configured;
}

import type { ARCResult } from 'mailauth';
import { domainOf } from '../address';
import { getAlignment } from '../mailauth.adapter';
import type { ArcEvidence } from '../sender-checks.types';

interface ParsedAar {
  dmarc?: { result?: string; header?: { from?: string } };
  spf?: { result?: string; smtp?: { mailfrom?: string; helo?: string } };
  dkim?: { result?: string; header?: { d?: string; i?: string } }[];
}

/**
 * ARC override of a DMARC failure: the chain validates (cv=pass), the newest ARC-Seal was made by a
 * trusted sealer, and that sealer's ARC-Authentication-Results recorded dmarc=pass for this author
 * domain, or an SPF/DKIM pass whose domain aligns (relaxed) with it.
 */
export function arcEvidence(arc: ARCResult, trustedSealers: string[], fromDomain: string | undefined): ArcEvidence {
  const chain = (arc as ARCResult & { chain?: { i: number; 'arc-seal'?: { parsed?: { d?: { value?: string } } } }[] }).chain;
  const newest = Array.isArray(chain) && chain.length ? chain[chain.length - 1] : undefined;
  const sealer = newest?.['arc-seal']?.parsed?.d?.value?.toString().toLowerCase();
  const trustedSealer = !!sealer && trustedSealers.some((entry) => entry.toLowerCase() === sealer);
  const aar = (arc.authenticationResults ?? {}) as ParsedAar;
  const recorded: ArcEvidence['recorded'] = {
    ...(aar.dmarc?.result ? { dmarc: aar.dmarc.result } : {}),
    ...(aar.spf?.result ? { spf: aar.spf.result, spfDomain: domainOf(aar.spf.smtp?.mailfrom ?? '') || aar.spf.smtp?.helo } : {}),
    ...(aar.dkim?.length ? { dkim: aar.dkim.map((d) => ({ result: d.result ?? '', domain: d.header?.d ?? (domainOf(d.header?.i ?? '') || undefined) })) } : {}),
  };
  const evidence: ArcEvidence = {
    result: arc.status.result,
    ...(arc.status.comment ? { comment: arc.status.comment } : {}),
    ...(typeof arc.i === 'number' && arc.i > 0 ? { instance: arc.i } : {}),
    ...(sealer ? { sealer } : {}),
    trustedSealer,
    ...(arc.status.result === 'pass' ? { recorded } : {}),
    overridesDmarcFailure: false,
  };
  if (arc.status.result !== 'pass' || !trustedSealer || !fromDomain) {
    return evidence;
  }
  const aligns = (domain: string | undefined) => !!domain && !!getAlignment(fromDomain, [domain], false);
  const recordedFrom = aar.dmarc?.header?.from?.toLowerCase();
  if (recorded.dmarc === 'pass' && (!recordedFrom || recordedFrom === fromDomain.toLowerCase())) {
    evidence.overridesDmarcFailure = true;
    evidence.overrideReason = `sealer ${sealer} recorded dmarc=pass`;
  } else if (recorded.spf === 'pass' && aligns(recorded.spfDomain)) {
    evidence.overridesDmarcFailure = true;
    evidence.overrideReason = `sealer ${sealer} recorded spf=pass for aligned ${recorded.spfDomain}`;
  } else {
    const dkim = recorded.dkim?.find((d) => d.result === 'pass' && aligns(d.domain));
    if (dkim) {
      evidence.overridesDmarcFailure = true;
      evidence.overrideReason = `sealer ${sealer} recorded dkim=pass for aligned ${dkim.domain}`;
    }
  }
  return evidence;
}

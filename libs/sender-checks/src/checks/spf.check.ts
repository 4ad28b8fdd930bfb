import type { PolicyAction } from '@mailwarden/policy';
import type { SPFResult } from '../mailauth.adapter';
import type { SenderCheckInput, SpfCheckRecord } from '../sender-checks.types';
import { failureFields } from './check-record';

const SPF_RESULTS = ['pass', 'fail', 'softfail', 'neutral', 'none', 'permerror', 'temperror'] as const;

/** RFC 7208 8.4: only `fail` is a failure; softfail, neutral, none and permerror are recorded. */
export function spfCheck(spf: SPFResult, input: SenderCheckInput, action: PolicyAction): SpfCheckRecord {
  const result = spf.status.result;
  const status = SPF_RESULTS.find((s) => s === result) ?? 'permerror';
  return {
    check: 'spf',
    status,
    ...failureFields(status, action),
    evidence: {
      result,
      domain: spf.domain,
      clientIp: input.clientIp,
      helo: input.helo,
      envelopeSender: input.envelopeSender,
      ...(spf.rr ? { record: spf.rr } : {}),
      ...(spf.status.comment ? { comment: spf.status.comment } : {}),
    },
  };
}

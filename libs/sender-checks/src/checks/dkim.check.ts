import type { DKIMVerifyResult } from 'mailauth';
import type { PolicyAction } from '@mailwarden/policy';
import type { DkimCheckRecord } from '../sender-checks.types';
import { failureFields } from './check-record';

/**
 * DKIM: a signature that is present and does not verify is a failure (dkim=fail: bad signature or
 * body hash; dkim=policy: rsa-sha1 or a key under 1024 bits, RFC 8301), unless another signature
 * verifies or could still verify (a key lookup that ended in temperror). No signature is `none`. A
 * signature that cannot be evaluated (unusable or missing key, malformed tags: neutral/permerror) is
 * recorded as permerror, and a DNS failure as temperror.
 */
export function dkimCheck(dkim: DKIMVerifyResult, action: PolicyAction): DkimCheckRecord {
  const signatures = (dkim.results ?? [])
    .filter((r) => r.status.result !== 'none')
    .map((r) => ({
      domain: r.signingDomain ?? '',
      selector: r.selector ?? '',
      algorithm: r.algo ?? '',
      ...(r.format ? { canonicalization: r.format } : {}),
      result: r.status.result,
      ...(r.status.comment ? { comment: r.status.comment } : {}),
      ...(typeof r.modulusLength === 'number' ? { keyBits: r.modulusLength } : {}),
      ...(r.status.testing ? { testing: true } : {}),
    }));
  const results = new Set(signatures.map((s) => s.result));
  let status: DkimCheckRecord['status'];
  if (!signatures.length) {
    status = 'none';
  } else if (results.has('pass')) {
    status = 'pass';
  } else if (results.has('temperror')) {
    // a signature whose key could not be fetched may still verify on retry, and one passing
    // signature is enough (RFC 6376 6.1), so a DNS failure outranks the failing signatures
    status = 'temperror';
  } else if (results.has('fail') || results.has('policy')) {
    status = 'fail';
  } else {
    status = 'permerror';
  }
  return { check: 'dkim', status, ...failureFields(status, action), evidence: { signatures } };
}

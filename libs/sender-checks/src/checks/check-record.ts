import type { PolicyAction } from '@mailwarden/policy';

/**
 * The fields every check record derives from its status alike: `temporaryError`, the configured `action` on a
 * `fail`, and on a `temperror` the `actionIfFailed` a front uses to decide between 451 and going on.
 */
export function failureFields(status: string, action: PolicyAction): { temporaryError: boolean; action?: PolicyAction; actionIfFailed?: PolicyAction } {
  return {
    temporaryError: status === 'temperror',
    ...(status === 'fail' ? { action } : {}),
    ...(status === 'temperror' ? { actionIfFailed: action } : {}),
  };
}

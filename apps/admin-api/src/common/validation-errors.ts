import type { ValidationError } from 'class-validator';
import type { ProblemFieldError } from './problem-code';

/**
 * class-validator's error tree as field errors whose `field` is the real path of the value (`ids[0]`,
 * `credentials.clientId`, `bypassCache`), never a word of the message; unknown fields are `UNKNOWN_FIELD`.
 */
export function fieldErrors(errors: readonly ValidationError[], parent = ''): ProblemFieldError[] {
  return errors.flatMap((error) => {
    const field = !parent ? error.property : /^\d+$/.test(error.property) ? `${parent}[${error.property}]` : `${parent}.${error.property}`;
    const own = Object.entries(error.constraints ?? {}).map(([constraint, message]) => ({
      field,
      code: constraint === 'whitelistValidation' ? 'UNKNOWN_FIELD' : 'INVALID_VALUE',
      message: constraint === 'whitelistValidation' ? `property ${field} should not exist` : message,
    }));
    return [...own, ...fieldErrors(error.children ?? [], field)];
  });
}

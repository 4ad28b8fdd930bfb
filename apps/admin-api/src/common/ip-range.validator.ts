import { isIP } from 'node:net';
import { registerDecorator, type ValidationOptions } from 'class-validator';

/**
 * Shortest prefix accepted: wider ranges would let most of the internet pass as the trusted sender (a connector
 * or journal source), so they are refused rather than taken as a typo of something narrower.
 */
const MIN_PREFIX = { 4: 8, 6: 16 } as const;

/** Why `value` is not a usable IP range (`192.0.2.0/24`, `2001:db8::/32` or one address); null when it is. */
export function ipRangeProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 64) {
    return 'must be an IP address or CIDR range';
  }
  const [address, prefix, extra] = value.trim().split('/');
  const family = isIP(address ?? '') as 0 | 4 | 6;
  if (family === 0 || extra !== undefined) {
    return 'must be an IP address or CIDR range';
  }
  if (prefix === undefined) {
    return null;
  }
  const max = family === 6 ? 128 : 32;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) {
    return `must have a prefix length from ${MIN_PREFIX[family]} to ${max}`;
  }
  if (Number(prefix) < MIN_PREFIX[family]) {
    return `is wider than /${MIN_PREFIX[family]}: too broad to trust`;
  }
  return null;
}

/** class-validator decorator for an IP range (use with `{ each: true }` on arrays). */
export function IsIpRange(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isIpRange',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: (args) => {
          // With `each: true` class-validator hands over the whole array: name the first entry that fails.
          const values: unknown[] = Array.isArray(args.value) ? args.value : [args.value];
          const bad = values.find((value) => ipRangeProblem(value) !== null);
          return `${args.property} entry "${String(bad).slice(0, 64)}" ${ipRangeProblem(bad) ?? ''}`;
        },
        ...options,
      },
      validator: { validate: (value: unknown) => ipRangeProblem(value) === null },
    });
}

import { BlockList, isIP } from 'node:net';
import { isFQDN, registerDecorator, type ValidationOptions } from 'class-validator';

/**
 * Addresses a downstream may never be: this host itself, "any", link-local (cloud metadata lives there), multicast
 * and broadcast. A tenant admin sets the downstream, so these would let a tenant make Mailwarden speak SMTP to its
 * own services (Redis, PostgreSQL, a metadata endpoint). Private ranges stay allowed: on-premises smart hosts.
 */
const FORBIDDEN = new BlockList();
FORBIDDEN.addSubnet('0.0.0.0', 8, 'ipv4');
FORBIDDEN.addSubnet('127.0.0.0', 8, 'ipv4');
FORBIDDEN.addSubnet('169.254.0.0', 16, 'ipv4');
FORBIDDEN.addSubnet('224.0.0.0', 4, 'ipv4');
FORBIDDEN.addAddress('255.255.255.255', 'ipv4');
FORBIDDEN.addAddress('::', 'ipv6');
FORBIDDEN.addAddress('::1', 'ipv6');
FORBIDDEN.addSubnet('fe80::', 10, 'ipv6');
FORBIDDEN.addSubnet('ff00::', 8, 'ipv6');

/** `[2001:db8::1]` (an RFC 5321 address literal) or a bare address → the address; anything else unchanged. */
export function stripAddressLiteral(host: string): string {
  const trimmed = host.trim();
  const inner = /^\[(?:IPv6:)?([^\]]+)\]$/i.exec(trimmed)?.[1] ?? trimmed;
  return isIP(inner) ? inner.toLowerCase() : trimmed;
}

/** Why a downstream host is refused, or null: a domain name, or an IPv4 / IPv6 address (IP literal) not forbidden. */
export function downstreamHostProblem(host: unknown): string | null {
  if (typeof host !== 'string' || host.length === 0 || host.length > 253) {
    return 'host must be a domain name or an IP address';
  }
  const candidate = stripAddressLiteral(host);
  const family = isIP(candidate);
  if (family === 0) {
    return isFQDN(candidate, { require_tld: true }) ? null : 'host must be a domain name or an IP address';
  }
  return FORBIDDEN.check(candidate, family === 4 ? 'ipv4' : 'ipv6')
    ? `host ${candidate} is a loopback, unspecified, link-local or multicast address (IPv4-mapped ones included), never a downstream`
    : null;
}

/** class-validator decorator for {@link downstreamHostProblem}. */
export function IsDownstreamHost(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isDownstreamHost',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => downstreamHostProblem(value) === null,
        defaultMessage: (args) => downstreamHostProblem(args?.value) ?? 'host is invalid',
      },
    });
}

/** A client address as the limits, the logs and the connector ranges see it: an IPv4-mapped IPv6 address as IPv4. */
export function normalizeClientIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? mapped[1]! : ip;
}

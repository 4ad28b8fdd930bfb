/** Domain of an address (after the last `@`), lower-case, without a trailing dot; '' when there is no `@`. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).trim().toLowerCase().replace(/\.$/, '');
}

// mailauth ships no type declarations for its internal tools module; only what we call is declared.
declare module 'mailauth/lib/tools' {
  export const KEY_ERROR_COMMENTS: Map<string, string>;
  /** Relaxed (Organizational Domain by the Public Suffix List) or strict alignment of domainList with fromDomain. */
  export function getAlignment(fromDomain: string, domainList: string[], strict?: boolean): { domain: string } | false;
  export function getPublicKey(
    type: 'DKIM' | 'AS' | 'AMS',
    name: string,
    minBitLength: number,
    resolver: (name: string, rrtype: string) => Promise<unknown>,
    options?: { strict?: boolean; hashAlgo?: string },
  ): Promise<{ publicKey: unknown; rr: string; modulusLength?: number }>;
}

/** Keyset position of the domain list (ordered by name, which is unique per account). */
export interface DomainNameKey {
  name: string;
}

export interface DownstreamRoute {
  host: string;
  port: number;
  requireTls: boolean;
  verifyCert: boolean;
}

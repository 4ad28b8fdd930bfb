/** Which accounts a caller may see: a partner's accounts, one account, or every account (the operator's CLI). */
export type AccountVisibility = { partnerId: string } | { accountId: string } | { all: true };

export interface CreateAccountInput {
  name: string;
  partnerId?: string | null;
  monitorOnly?: boolean;
}

/** The account's journal ingest settings; absent fields are left as they are. */
export interface JournalSettingsChange {
  /** CIDR ranges or addresses allowed to send journal copies, normalized; empty: any. */
  sourceIps?: string[];
  requireTls?: boolean;
}

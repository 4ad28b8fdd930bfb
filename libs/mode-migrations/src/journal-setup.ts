/** The account's journal address: `<journalToken>@<JOURNAL_DOMAIN>`. */
export function journalAddress(journalToken: string, journalDomain: string): string {
  return `${journalToken}@${journalDomain}`.toLowerCase();
}

export interface JournalSetupInstructions {
  microsoft365: string[];
  googleWorkspace: string[];
}

/** Step-by-step journaling setup for the account's mail provider (monitor-only, DESIGN.md §3). */
export function journalSetupInstructions(address: string): JournalSetupInstructions {
  return {
    microsoft365: [
      'Microsoft Purview portal → Data lifecycle management → Exchange (legacy) → Journal rules.',
      'Set "Send undeliverable journal reports to" to a mailbox you own (required before any rule can be created).',
      `New rule: "Send journal reports to" ${address}; "Journal messages sent or received from" Everyone; "Type of message to journal" Global (All messages).`,
      'Use the Global scope, not Internal or External: Exchange Online treats a spoof of one of your accepted domains as internal mail, so only a Global rule journals it.',
      `Add ${address.split('@')[1]} as a remote domain or mail contact only if your tenant blocks external journal recipients; journal reports must leave the tenant unaltered.`,
      'Send a test message to a mailbox of a connected domain: it appears in message history with source JOURNAL within a minute.',
    ],
    googleWorkspace: [
      'Google Admin console → Apps → Google Workspace → Gmail → Compliance.',
      'Content compliance (or Routing) → Configure: Email messages to affect: Inbound, Outbound, Internal - sending, Internal - receiving.',
      'Add an expression that matches every message (e.g. Advanced content match, Full headers, Matches regex ".*").',
      `Action: Modify message → Also deliver to → Add more recipients → ${address} (Basic), leaving the original delivery unchanged.`,
      'Apply it to every organisational unit whose domains are connected, then send a test message: it appears in message history with source JOURNAL.',
    ],
  };
}

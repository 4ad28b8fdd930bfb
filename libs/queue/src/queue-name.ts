/** Every BullMQ queue Mailwarden uses (kebab-case names; DESIGN.md §8). Payloads carry ids only. */
export enum QueueName {
  /** Scan a stored message: sender checks, policy, verdict. Job id = message id. */
  Scan = 'scan',
  /** Relay a processed message (or one recipient's copy) to the domain's downstream. */
  Delivery = 'delivery',
  /** Automated steps of account mode migrations. */
  ModeMigration = 'mode-migration',
  /** Poll a third-party source (Mimecast TTP logs) for one account. */
  MimecastPoll = 'mimecast-poll',
  /** Microsoft 365 directory sync of one account (scheduled per account, or on demand). */
  M365DirectorySync = 'm365-directory-sync',
  /** Microsoft 365 clawback / restore of delivered messages (one job per remediation). */
  M365Remediation = 'm365-remediation',
  /** Microsoft 365 mailflow quick tests through Exchange Online (issue 16; the scanner's workers). */
  M365Mailflow = 'm365-mailflow',
  /** Mailflow tamper checks: Exchange Online against what Mailwarden created (issue 16; the admin API's migration worker). */
  MailflowTamperCheck = 'mailflow-tamper-check',
  /** Export outbox events (OCSF) to SIEM sinks. */
  Export = 'export',
}

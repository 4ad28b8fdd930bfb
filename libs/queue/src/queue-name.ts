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
  /** Export outbox events (OCSF) to SIEM sinks. */
  Export = 'export',
}

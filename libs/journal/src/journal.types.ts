import type { JournalParseReason } from './journal-parse-error';

/** How a recipient appears in a Microsoft 365 journal report; `recipient` when Exchange did not say. */
export type JournalRecipientType = 'to' | 'cc' | 'bcc' | 'recipient';

export interface JournalRecipient {
  /** SMTP address as the report wrote it (case kept). */
  address: string;
  type: JournalRecipientType;
  /** `To: a@x, Expanded: list@x`: a@x received the message as a member of distribution list list@x. */
  expandedFrom?: string;
  /** `To: b@x, Forwarded: a@x`: b@x received the message because a@x's mailbox forwarded it. */
  forwardedFrom?: string;
}

export interface MicrosoftJournalReport {
  kind: 'microsoft';
  /** Envelope sender from the report's `Sender:` line; '' for the null reverse-path `<>`. */
  sender: string;
  /** `On-Behalf-Of:` (send-on-behalf or send-as delegate), when the report names one. */
  onBehalfOf?: string;
  /** Subject from the report, '' when the line is empty or absent. */
  subject: string;
  /** `<id>` form, null when the report has no Message-ID line. */
  messageId: string | null;
  /** Every recipient line in report order; a recipient reached twice appears twice. */
  recipients: JournalRecipient[];
  /** The envelope the scan uses: every recipient address (Bcc included), lower-cased, deduplicated. */
  envelopeRecipients: string[];
  /** `${messageId}|${recipient}` per envelope recipient, empty without a Message-ID (see dedupKeysFor). */
  dedupKeys: string[];
  /**
   * The embedded original, byte for byte: a view into the input Buffer when the rfc822 part is not
   * transfer-encoded, else the decoded bytes.
   */
  original: Buffer;
}

/** Where a Google copy's sender came from, best first. */
export type GoogleSenderSource = 'envelope' | 'return-path' | 'from' | 'none';

export interface GoogleJournalCopy {
  kind: 'google';
  sender: string;
  senderSource: GoogleSenderSource;
  /** Addresses from the topmost `X-Gm-Original-To` field, as written, in order, duplicates removed. */
  recipients: string[];
  /** Lower-cased, deduplicated recipients. */
  envelopeRecipients: string[];
  /** `<id>` form, null when the message has no Message-ID. */
  messageId: string | null;
  /** `${messageId}|${recipient}` per envelope recipient; empty without a Message-ID. */
  dedupKeys: string[];
  /** The input itself: a Google copy is the original message. */
  original: Buffer;
}

export interface UnrecognizedJournalMessage {
  kind: 'unrecognized';
  reason: JournalParseReason;
  /** Human-readable explanation for logs (not for the SMTP reply: it may quote input). */
  detail: string;
}

export type JournalUnwrapResult = MicrosoftJournalReport | GoogleJournalCopy | UnrecognizedJournalMessage;

export interface UnwrapJournalOptions {
  /**
   * SMTP MAIL FROM of the journal delivery. Used as a Google copy's sender (Google keeps the original
   * envelope sender on the copy); ignored for Microsoft reports, whose envelope sender is the journaling
   * agent, not the original sender.
   */
  envelopeSender?: string;
}

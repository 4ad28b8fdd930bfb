/** One attachment as the MIME parser hands it over (this lib does not parse MIME). */
export interface MessageAttachment {
  /** The declared file name (Content-Disposition filename / Content-Type name), decoded; null when absent. */
  filename: string | null;
  /** The declared media type, informational only: the sniffer trusts bytes, not declarations. */
  contentType?: string;
  /** The decoded content (after Content-Transfer-Encoding). */
  content: Uint8Array;
  /** Text the caller extracted from the attachment (e.g. a text/plain or text/csv part), searched by content rules. */
  extractedText?: string;
}

/** A parsed view of a message, the input of content rules. */
export interface MessageContent {
  /** Decoded Subject (RFC 2047 words decoded); empty when absent. */
  subject: string;
  /** Decoded text bodies (text/plain, and text/html converted to text), in message order. */
  textParts: string[];
  attachments: MessageAttachment[];
}

import { createHash } from 'node:crypto';
import PostalMime from 'postal-mime';

/** What an OCSF `email` object carries beyond the stored message row, read from the raw bytes. */
export interface MessageDetails {
  to: string[];
  cc: string[];
  replyTo: string | null;
  files: Array<{ name: string; size: number; mimeType: string; sha256: string }>;
  urls: string[];
}

const MAX_URLS = 100;
const MAX_FILES = 100;
// Links in text and html bodies; stops at whitespace, quotes and angle brackets (RFC 3986 Appendix C delimiters).
const URL_PATTERN = /\bhttps?:\/\/[^\s"'<>]+/gi;

const EMPTY: MessageDetails = { to: [], cc: [], replyTo: null, files: [], urls: [] };

/**
 * Header recipients, attachments (with SHA-256 of their decoded bytes) and linked URLs of a raw message. Lenient like
 * the scanner's content view: a message postal-mime cannot parse yields no details rather than an error, so one bad
 * message never stops an export.
 */
export async function readMessageDetails(raw: Buffer | null): Promise<MessageDetails> {
  if (!raw) {
    return EMPTY;
  }
  let email: Awaited<ReturnType<typeof PostalMime.parse>>;
  try {
    email = await PostalMime.parse(raw, { attachmentEncoding: 'arraybuffer' });
  } catch {
    return EMPTY;
  }
  const addresses = (list: Array<{ address?: string; group?: Array<{ address?: string }> }> | undefined) =>
    (list ?? []).flatMap((entry) => (entry.group ? entry.group.map((member) => member.address) : [entry.address])).filter((address): address is string => Boolean(address)).map((address) => address.toLowerCase());
  const urls = new Set<string>();
  for (const body of [email.text, email.html]) {
    for (const match of (body ?? '').matchAll(URL_PATTERN)) {
      if (urls.size >= MAX_URLS) {
        break;
      }
      urls.add(match[0].replace(/[.,;:!?)\]]+$/, '').replace(/&amp;/g, '&'));
    }
  }
  return {
    to: addresses(email.to),
    cc: addresses(email.cc),
    replyTo: addresses(email.replyTo)[0] ?? null,
    files: email.attachments.slice(0, MAX_FILES).map((attachment) => {
      const content = Buffer.from(attachment.content as ArrayBuffer);
      return {
        name: attachment.filename ?? 'unnamed',
        size: content.byteLength,
        mimeType: attachment.mimeType,
        sha256: createHash('sha256').update(content).digest('hex'),
      };
    }),
    urls: [...urls],
  };
}

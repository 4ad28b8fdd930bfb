import PostalMime from 'postal-mime';
import { summarizeMessageHeaders } from '@mailwarden/journal';
import type { MessageContent } from '@mailwarden/policy';

// Text attachments are searched by content rules as text too (a CSV of card numbers is as sensitive as a body).
const TEXT_ATTACHMENT = /^text\/(plain|csv|tab-separated-values)$/i;

/** Turns html into searchable text: drops script/style, tags, and decodes the common entities. */
function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<br\s*\/?>|<\/(p|div|tr|li|h\d)>/gi, '\n')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&lt;/gi, '<')
    .replace(/&gt;/gi, '>')
    .replace(/&quot;/gi, '"')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&amp;/gi, '&');
}

/**
 * A parsed view of a message for the content rules of libs/policy: decoded Subject, text bodies (html
 * flattened to text), attachments with their decoded bytes. Never throws on malformed MIME: postal-mime
 * parses leniently, and whatever it cannot parse is simply not there to match.
 */
export async function parseMessageContent(raw: Buffer): Promise<MessageContent> {
  let email: Awaited<ReturnType<typeof PostalMime.parse>>;
  try {
    email = await PostalMime.parse(raw, { attachmentEncoding: 'arraybuffer' });
  } catch {
    // postal-mime refuses a structure past its limits (256 nested multiparts, 2 MiB of headers). Throwing would
    // make the gateway answer 451 and the scan retry forever; the rules read the undecoded text instead.
    return { subject: summarizeMessageHeaders(raw).subject ?? '', textParts: [raw.toString('latin1')], attachments: [] };
  }
  const textParts: string[] = [];
  if (email.text) {
    textParts.push(email.text);
  }
  if (email.html) {
    textParts.push(htmlToText(email.html));
  }
  return {
    subject: email.subject ?? '',
    textParts,
    attachments: email.attachments.map((attachment) => {
      const content = new Uint8Array(attachment.content as ArrayBuffer);
      return {
        filename: attachment.filename ?? null,
        contentType: attachment.mimeType,
        content,
        extractedText: TEXT_ATTACHMENT.test(attachment.mimeType) ? Buffer.from(content).toString('utf8') : undefined,
      };
    }),
  };
}

/**
 * The part of {@link MessageContent} that policy reads when no content rule applies: the decoded Subject (for the
 * subject tag), without decoding bodies and attachments. Decoding the MIME tree is most of a scan's CPU when an
 * account has no Data Control rules, so it is done only when a rule will read it.
 */
export function headerOnlyContent(raw: Buffer): MessageContent {
  return { subject: summarizeMessageHeaders(raw).subject ?? '', textParts: [], attachments: [] };
}

import type { Message } from '../../generated/prisma/client';
import type { IncomingMessage } from '../../types/message.types';

/** The columns of a stored message that its scan reads (sender checks, policy) and its verdict statement needs. */
export type ScanTarget = Pick<Message, 'id' | 'accountId' | 'source' | 'direction' | 'envelopeFrom' | 'envelopeTo' | 'headerFrom' | 'clientIp' | 'helo'>;

/**
 * The {@link ScanTarget} of a message just stored from `input` under `id`, as the row holds it (addresses lower-cased
 * as `messageInsertCtes` writes them), so the process that stored it can scan it without reading it back.
 * message-writes.int-spec.ts compares it with the row read back.
 */
export function storedScanTarget(id: string, input: IncomingMessage): ScanTarget {
  return {
    id,
    accountId: input.accountId,
    source: input.source,
    direction: input.direction,
    envelopeFrom: input.envelopeFrom.toLowerCase(),
    envelopeTo: input.envelopeTo.map((address) => address.toLowerCase()),
    headerFrom: input.headerFrom?.toLowerCase() ?? null,
    clientIp: input.clientIp ?? null,
    helo: input.helo ?? null,
  };
}

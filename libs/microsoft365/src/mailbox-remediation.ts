import { GraphClient, odataString } from './graph.client';
import { GraphError } from './microsoft365.errors';

/** What an admin can do to a delivered message (Defender's remediation actions; Graph well-known folder names). */
export type RemediationAction = 'MOVE_TO_JUNK' | 'MOVE_TO_DELETED_ITEMS' | 'SOFT_DELETE' | 'HARD_DELETE' | 'RESTORE_TO_INBOX';

/** Destination well-known folder of each moving action (message-move.md `destinationId`). */
export const REMEDIATION_DESTINATION: Record<Exclude<RemediationAction, 'HARD_DELETE'>, string> = {
  MOVE_TO_JUNK: 'junkemail',
  MOVE_TO_DELETED_ITEMS: 'deleteditems',
  // Recoverable Items\Deletions: gone from the user's view, recoverable by the admin.
  SOFT_DELETE: 'recoverableitemsdeletions',
  RESTORE_TO_INBOX: 'inbox',
};

export type MailboxOutcome =
  | { status: 'COMPLETED'; graphMessageId: string | null }
  | { status: 'ALREADY_IN_DESTINATION'; graphMessageId: string }
  | { status: 'NOT_FOUND'; detail: string }
  | { status: 'FAILED'; error: GraphError };

interface FoundMessage {
  id: string;
  parentFolderId?: string;
}

const path = (mailbox: string) => `/users/${encodeURIComponent(mailbox)}`;

/**
 * Finds a delivered message in one mailbox by its Internet Message-ID (the whole mailbox, Deleted Items included:
 * user-list-messages.md) and moves it to the action's folder, or permanently deletes it (message-permanentdelete.md).
 * Idempotent: a copy already in the destination folder is not moved again (ALREADY_IN_DESTINATION), so a run that
 * resumes after a crash never acts twice. `wasAttempted`: a hard delete resumed after a crash finds nothing because
 * the earlier attempt succeeded, which is COMPLETED, not NOT_FOUND.
 */
export async function remediateMailbox(
  graph: GraphClient,
  mailbox: string,
  internetMessageId: string,
  action: RemediationAction,
  wasAttempted = false,
): Promise<MailboxOutcome> {
  try {
    const filter = encodeURIComponent(`internetMessageId eq ${odataString(internetMessageId)}`);
    const { items } = await graph.getAll<FoundMessage>(`${path(mailbox)}/messages?$filter=${filter}&$select=id,parentFolderId`, { mailbox });
    if (items.length === 0) {
      return wasAttempted && action === 'HARD_DELETE'
        ? { status: 'COMPLETED', graphMessageId: null }
        : { status: 'NOT_FOUND', detail: 'no message with this Message-ID in the mailbox' };
    }
    if (action === 'HARD_DELETE') {
      for (const message of items) {
        await graph.request('POST', `${path(mailbox)}/messages/${encodeURIComponent(message.id)}/permanentDelete`, { mailbox });
      }
      return { status: 'COMPLETED', graphMessageId: null };
    }
    const destination = REMEDIATION_DESTINATION[action];
    const folder = await graph.get<{ id: string }>(`${path(mailbox)}/mailFolders/${destination}?$select=id`, { mailbox });
    const toMove = items.filter((message) => message.parentFolderId !== folder.id);
    if (toMove.length === 0) {
      return { status: 'ALREADY_IN_DESTINATION', graphMessageId: items[0]!.id };
    }
    let movedId: string | null = null;
    for (const message of toMove) {
      const moved = await graph.request<{ id: string }>('POST', `${path(mailbox)}/messages/${encodeURIComponent(message.id)}/move`, {
        mailbox,
        body: { destinationId: destination },
      });
      // The moved message has a new id (message-move.md); it is what a later restore looks for.
      movedId = moved.body?.id ?? movedId;
    }
    return { status: 'COMPLETED', graphMessageId: movedId };
  } catch (error) {
    if (error instanceof GraphError) {
      if (error.isNotFound) {
        return { status: 'NOT_FOUND', detail: `${error.code}: ${error.message}` };
      }
      return { status: 'FAILED', error };
    }
    throw error;
  }
}

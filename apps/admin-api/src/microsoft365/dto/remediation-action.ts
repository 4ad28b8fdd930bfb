/** What a remediation does in each mailbox; RESTORE_TO_INBOX is made by the restore route. */
export const REMEDIATION_ACTIONS = ['MOVE_TO_JUNK', 'MOVE_TO_DELETED_ITEMS', 'SOFT_DELETE', 'HARD_DELETE'] as const;
export type RemediationActionParam = (typeof REMEDIATION_ACTIONS)[number];

export const REMEDIATION_ACTION_DOC =
  'MOVE_TO_JUNK (Junk Email), MOVE_TO_DELETED_ITEMS (Deleted Items), SOFT_DELETE (Recoverable Items\\Deletions: hidden from the user, recoverable), HARD_DELETE (permanentDelete: not restorable). Graph application permission: Mail.ReadWrite.';

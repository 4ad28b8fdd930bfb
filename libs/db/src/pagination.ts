import type { CreatedAtKey } from './types/page.types';

/** The `where` of a keyset page ordered newest first (`createdAt` desc, then `id` desc): the rows after `after`. */
export function newestFirstAfter(after: CreatedAtKey | undefined): { OR?: object[] } {
  return after ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] } : {};
}

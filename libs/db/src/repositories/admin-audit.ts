import type { Prisma } from '../generated/prisma/client';

/** Who makes a change through the admin API: written into every audit entry. */
export interface AuditActor {
  /** Human-readable actor, e.g. `api-key:<prefix> (<name>)`. */
  actor: string;
  actorKeyId: string | null;
}

/** A JSON snapshot of a row for the audit log (dates as ISO strings, no secrets). */
export function auditSnapshot(row: object | null | undefined): Prisma.InputJsonValue | null {
  if (!row) {
    return null;
  }
  return JSON.parse(JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))) as Prisma.InputJsonValue;
}

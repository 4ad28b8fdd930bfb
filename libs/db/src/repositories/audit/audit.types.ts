import type { Prisma } from '../../generated/prisma/client';

/** Who makes a change through the admin API: written into every audit entry. */
export interface AuditActor {
  /** Human-readable actor, e.g. `api-key:<prefix> (<name>)`. */
  actor: string;
  actorKeyId: string | null;
}

export interface AuditEntry {
  actor: string;
  actorKeyId?: string | null;
  accountId?: string | null;
  partnerId?: string | null;
  action: string;
  objectType: string;
  objectId: string;
  before?: Prisma.InputJsonValue | null;
  after?: Prisma.InputJsonValue | null;
}

export interface AuditLogFilters {
  from?: Date;
  to?: Date;
  action?: string;
  objectType?: string;
  objectId?: string;
  actorKeyId?: string;
}

import { Injectable, Logger } from '@nestjs/common';
import { parse } from 'csv-parse/sync';
import { Microsoft365Repository, type AuditActor, type DirectoryChangeCounts, type DirectoryChangeSet, type M365SyncRun, type M365SyncTrigger } from '@mailwarden/db';
import type { GraphClient } from './graph.client';
import { GraphError } from './microsoft365.errors';
import { Microsoft365Queues } from './microsoft365-queues';
import { Microsoft365Service } from './microsoft365.service';

const USER_SELECT = 'id,mail,userPrincipalName,proxyAddresses,displayName,accountEnabled';
const USERS_FIRST_ROUND = `/users/delta?$select=${USER_SELECT}`;
// `members` in $select makes group membership changes show up in groups/delta (as members@delta).
const GROUPS_FIRST_ROUND = '/groups/delta?$select=id,displayName,mail,members';
const SYSTEM_ACTOR: AuditActor = { actor: 'system:microsoft365-directory-sync', actorKeyId: null };
const MAX_CSV_ROWS = 50_000;

interface GraphUser {
  id: string;
  mail?: string | null;
  userPrincipalName?: string;
  proxyAddresses?: string[];
  displayName?: string | null;
  '@removed'?: { reason: string };
}

interface GraphGroup {
  id: string;
  displayName?: string | null;
  '@removed'?: { reason: string };
}

/** A CSV import refused as a whole (nothing imported), with the first bad rows. */
export class CsvImportError extends Error {
  constructor(readonly problems: Array<{ row: number; message: string }>) {
    super(`the CSV was not imported: ${problems.map((problem) => `row ${problem.row}: ${problem.message}`).join('; ')}`);
    this.name = 'CsvImportError';
  }
}

/** The mailbox address of a user: the primary SMTP address (`SMTP:` in upper case), else `mail`; null: no mailbox. */
export function primaryAddress(user: Pick<GraphUser, 'mail' | 'proxyAddresses'>): string | null {
  const primary = user.proxyAddresses?.find((address) => address.startsWith('SMTP:'));
  const address = primary ? primary.slice(5) : user.mail;
  return address ? address.trim().toLowerCase() : null;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Directory sync of Microsoft 365 users and groups into the account's mailboxes and groups (the user and group levels
 * of policy), with `/users/delta` and `/groups/delta`: the first run (no deltaLink) is full and reconciles, later
 * ones apply what changed, `@removed` included. Graph is read in full before anything is written; then changes,
 * delta links and the run record commit in one transaction, so a failed run changes nothing.
 */
@Injectable()
export class DirectorySyncService {
  private readonly logger = new Logger(DirectorySyncService.name);

  constructor(
    private readonly microsoft365: Microsoft365Service,
    private readonly repository: Microsoft365Repository,
    private readonly queues: Microsoft365Queues,
  ) {}

  /** Records a queued run and queues it (on demand). */
  async requestSync(accountId: string): Promise<M365SyncRun> {
    await this.microsoft365.requireConnection(accountId);
    const run = await this.repository.createSyncRun(accountId, 'ON_DEMAND');
    await this.queues.enqueueSync(accountId, run.id);
    return run;
  }

  /** The worker's job: runs the given (or a new scheduled) run. Throws when the run failed, so BullMQ shows it. */
  async run(accountId: string, runId?: string, trigger: M365SyncTrigger = 'SCHEDULED'): Promise<M365SyncRun> {
    const run = runId ? await this.repository.findSyncRun(accountId, runId) : await this.repository.createSyncRun(accountId, trigger);
    if (!run || run.status === 'SUCCEEDED' || run.status === 'FAILED') {
      return run!; // redelivered job of a run that ended
    }
    const connection = await this.repository.findConnection(accountId);
    if (!connection || !this.microsoft365.isConfigured) {
      return this.repository.failSyncRun(run.id, 'the account has no Microsoft 365 connection');
    }
    let full = !connection.usersDeltaLink || !connection.groupsDeltaLink;
    await this.repository.markSyncRunning(run.id, full);
    try {
      const graph = this.microsoft365.graph(connection.tenantId);
      let users: Awaited<ReturnType<DirectorySyncService['delta']>>;
      let groups: Awaited<ReturnType<DirectorySyncService['delta']>>;
      try {
        users = await this.delta<GraphUser>(graph, full ? USERS_FIRST_ROUND : connection.usersDeltaLink!);
        groups = await this.delta<GraphGroup>(graph, full ? GROUPS_FIRST_ROUND : connection.groupsDeltaLink!);
      } catch (error) {
        // An expired delta token (410 syncStateNotFound / resyncRequired): start over with a full round.
        if (!(error instanceof GraphError && error.status === 410) || full) {
          throw error;
        }
        full = true;
        await this.repository.markSyncRunning(run.id, true);
        users = await this.delta<GraphUser>(graph, USERS_FIRST_ROUND);
        groups = await this.delta<GraphGroup>(graph, GROUPS_FIRST_ROUND);
      }
      const changes: DirectoryChangeSet = { upsertMailboxes: [], removeMailboxes: [], upsertGroups: [], removeGroups: [], full };
      for (let user of users.items.values() as Iterable<GraphUser>) {
        if (user['@removed']) {
          changes.removeMailboxes.push({ externalId: user.id });
          continue;
        }
        if (!full && user.mail === undefined && user.proxyAddresses === undefined) {
          // Delta may carry only the changed properties: read the addresses the change left out.
          user = { ...user, ...(await graph.get<GraphUser>(`/users/${encodeURIComponent(user.id)}?$select=${USER_SELECT}`)) };
        }
        const email = primaryAddress(user);
        if (email) {
          changes.upsertMailboxes.push({ externalId: user.id, email, displayName: user.displayName ?? null });
        } else {
          changes.removeMailboxes.push({ externalId: user.id }); // no mailbox (any more)
        }
      }
      for (const group of groups.items.values() as Iterable<GraphGroup>) {
        if (group['@removed']) {
          changes.removeGroups.push({ externalId: group.id });
          continue;
        }
        const members = await graph.getAll<{ id: string }>(`/groups/${encodeURIComponent(group.id)}/members?$select=id`);
        changes.upsertGroups.push({ externalId: group.id, name: group.displayName?.trim() || group.id, memberExternalIds: members.items.map((member) => member.id) });
      }
      const counts = await this.repository.completeSync(run, changes, { users: users.deltaLink, groups: groups.deltaLink }, SYSTEM_ACTOR);
      this.logger.log({ event: 'microsoft365.directory_sync.finished', accountId, runId: run.id, full, ...counts });
      return (await this.repository.findSyncRun(accountId, run.id))!;
    } catch (error) {
      const message = error instanceof GraphError ? `${error.code}: ${error.message}` : (error as Error).message;
      this.logger.warn({ event: 'microsoft365.directory_sync.failed', accountId, runId: run.id, error: message });
      await this.repository.failSyncRun(run.id, message);
      throw error;
    }
  }

  /**
   * CSV import of mailboxes (the manual route): a header row with `email` and optionally `displayName`. Goes through
   * the same change set, run record and transaction as a sync; one bad row refuses the whole file.
   */
  async importCsv(accountId: string, csv: string, actor: AuditActor): Promise<{ run: M365SyncRun; counts: DirectoryChangeCounts }> {
    let rows: Array<Record<string, string>>;
    try {
      rows = parse(csv, { columns: (header: string[]) => header.map((name) => name.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true });
    } catch (error) {
      throw new CsvImportError([{ row: 0, message: (error as Error).message }]);
    }
    if (rows.length > MAX_CSV_ROWS) {
      throw new CsvImportError([{ row: MAX_CSV_ROWS + 1, message: `at most ${MAX_CSV_ROWS} rows per import` }]);
    }
    if (rows.length > 0 && !('email' in rows[0]!)) {
      throw new CsvImportError([{ row: 1, message: 'the header row has no "email" column' }]);
    }
    const problems: Array<{ row: number; message: string }> = [];
    const seen = new Map<string, { email: string; displayName: string | null }>();
    rows.forEach((row, index) => {
      const email = (row.email ?? '').toLowerCase();
      if (!EMAIL.test(email) || email.length > 320) {
        problems.push({ row: index + 2, message: `"${email.slice(0, 80)}" is not an email address` });
        return;
      }
      const displayName = (row.displayname ?? row.display_name ?? row.name ?? '').slice(0, 256) || null;
      seen.set(email, { email, displayName });
    });
    if (problems.length > 0) {
      throw new CsvImportError(problems.slice(0, 20));
    }
    const run = await this.repository.createSyncRun(accountId, 'CSV_IMPORT');
    await this.repository.markSyncRunning(run.id, false);
    try {
      const counts = await this.repository.completeSync(run, { upsertMailboxes: [...seen.values()], removeMailboxes: [], upsertGroups: [], removeGroups: [], full: false }, null, actor);
      return { run: (await this.repository.findSyncRun(accountId, run.id))!, counts };
    } catch (error) {
      await this.repository.failSyncRun(run.id, (error as Error).message);
      throw error;
    }
  }

  /** One delta round to its end: the items by id (a later page's copy wins) and the deltaLink for next time. */
  private async delta<T extends { id: string }>(graph: GraphClient, link: string): Promise<{ items: Map<string, T>; deltaLink: string | null }> {
    const { items, deltaLink } = await graph.getAll<T>(link);
    return { items: new Map(items.map((item) => [item.id, item])), deltaLink };
  }
}

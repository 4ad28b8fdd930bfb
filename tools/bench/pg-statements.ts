import type { Client } from 'pg';

/** pg_stat_statements' counters the bench reads: over the whole run, or per message of it. */
interface StatementFigures {
  calls: number;
  execMs: number;
  rows: number;
  /** Shared buffers hit + read (pages touched). */
  blocks: number;
  dirtied: number;
  walRecords: number;
  walFpi: number;
  walBytes: number;
}

/** One statement's cost per message of a run (pg_stat_statements, differences over the run). */
export interface StatementCost extends StatementFigures {
  /** Whitespace-collapsed start of the statement and the tables it writes. */
  statement: string;
}

interface Counters extends StatementFigures {
  query: string;
}

export type StatementSnapshot = Map<string, Counters>;

/**
 * pg_stat_statements in the bench database, when the server preloads it (`shared_preload_libraries`): the extension
 * is created in the bench's own database; false when the server lacks the library (the shared development server).
 */
export async function enableStatementStatistics(pg: Client): Promise<boolean> {
  try {
    await pg.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await pg.query('SELECT 1 FROM pg_stat_statements LIMIT 1');
    return true;
  } catch {
    return false;
  }
}

/** Counters of every statement run in the bench database so far (nested ones, e.g. a trigger's, included when `pg_stat_statements.track = all`). */
export async function statementSnapshot(pg: Client): Promise<StatementSnapshot> {
  const { rows } = await pg.query<{ key: string; query: string; calls: string; exec_ms: number; rows: string; blocks: string; dirtied: string; wal_records: string; wal_fpi: string; wal_bytes: string }>(
    `SELECT queryid::text || '/' || toplevel::text AS key, query, calls, total_exec_time AS exec_ms, rows,
       shared_blks_hit + shared_blks_read AS blocks, shared_blks_dirtied AS dirtied, wal_records, wal_fpi, wal_bytes
     FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  return new Map(
    rows.map((row) => [
      row.key,
      {
        query: row.query,
        calls: Number(row.calls),
        execMs: Number(row.exec_ms),
        rows: Number(row.rows),
        blocks: Number(row.blocks),
        dirtied: Number(row.dirtied),
        walRecords: Number(row.wal_records),
        walFpi: Number(row.wal_fpi),
        walBytes: Number(row.wal_bytes),
      },
    ]),
  );
}

/** What a statement is: its first words and the tables it writes, for a table cell. */
export function describeStatement(query: string): string {
  const flat = query.replace(/\s+/g, ' ').trim();
  const writes = [...new Set([...flat.matchAll(/(?:INSERT INTO|UPDATE|DELETE FROM) "?([a-z_]+)"?/gi)].map((match) => match[1]!))];
  const head = flat.length > 70 ? `${flat.slice(0, 70)}…` : flat;
  return writes.length > 0 ? `${head} [writes ${writes.join(', ')}]` : head;
}

/** The bench's own polling (scenarios.ts): CPU and transaction counters, the scan / delivery waits, 250 → verdict. */
const BENCH_OWN = /pg_stat_|pg_database|AS n FROM message_scan|FILTER \(WHERE state IN|max\(created_at\) AS at/;

/**
 * Every statement the clients sent over the run, per message: the sum over top-level statements (a trigger's nested
 * statement is counted inside the one that fired it; its own entry is left out), the bench's own polling left out.
 * `calls` is then the statements per message.
 */
export function statementTotals(before: StatementSnapshot, after: StatementSnapshot, messages: number): StatementCost {
  const total: StatementCost = { statement: 'all statements (top-level, nested ones inside them)', calls: 0, execMs: 0, rows: 0, blocks: 0, dirtied: 0, walRecords: 0, walFpi: 0, walBytes: 0 };
  for (const [key, now] of after) {
    if (!key.endsWith('/true') || BENCH_OWN.test(now.query)) {
      continue;
    }
    const then = before.get(key);
    for (const field of ['calls', 'execMs', 'rows', 'blocks', 'dirtied', 'walRecords', 'walFpi', 'walBytes'] as const) {
      total[field] += (now[field] - (then?.[field] ?? 0)) / messages;
    }
  }
  return total;
}

/** The `top` statements by execution time over the run, per message; the bench's own polling is left out. */
export function statementCosts(before: StatementSnapshot, after: StatementSnapshot, messages: number, top = 12): StatementCost[] {
  const costs: StatementCost[] = [];
  for (const [key, now] of after) {
    const then = before.get(key);
    const calls = now.calls - (then?.calls ?? 0);
    if (calls <= 0 || BENCH_OWN.test(now.query)) {
      continue;
    }
    const per = (field: keyof StatementFigures) => (now[field] - (then?.[field] ?? 0)) / messages;
    costs.push({
      statement: describeStatement(now.query),
      calls: calls / messages,
      execMs: per('execMs'),
      rows: per('rows'),
      blocks: per('blocks'),
      dirtied: per('dirtied'),
      walRecords: per('walRecords'),
      walFpi: per('walFpi'),
      walBytes: per('walBytes'),
    });
  }
  return costs.sort((a, b) => b.execMs - a.execMs).slice(0, top);
}

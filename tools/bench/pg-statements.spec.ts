import { describeStatement, statementCosts, statementTotals, type StatementSnapshot } from './pg-statements';

const counters = (query: string, calls: number, execMs: number, walBytes: number) => ({ query, calls, execMs, rows: calls, blocks: 10 * calls, dirtied: 0, walRecords: 2 * calls, walFpi: 0, walBytes });

describe(statementCosts.name, () => {
  it("should give each statement's growth over the run per message, costliest first, without the bench's own polling", () => {
    const store = 'WITH "raw" AS (INSERT INTO "raw_message" ("id") VALUES ($1)), "msg" AS (INSERT INTO "message" ("id") SELECT 1) SELECT "id" FROM "msg"';
    const verdict = 'WITH "x" AS (DELETE FROM "message_scan" WHERE "message_id" = $1) UPDATE "message" SET "scan_status" = $2';
    const before: StatementSnapshot = new Map([
      ['1/true', counters(store, 100, 50, 1_000)],
      ['3/true', counters('SELECT pid FROM pg_stat_activity WHERE datname = current_database()', 10, 1, 0)],
    ]);
    const after: StatementSnapshot = new Map([
      ['1/true', counters(store, 300, 250, 5_000)],
      ['2/true', counters(verdict, 200, 600, 800)],
      ['3/true', counters('SELECT pid FROM pg_stat_activity WHERE datname = current_database()', 50, 5, 0)],
      ['4/true', counters('SELECT 1', 0, 0, 0)],
    ]);
    const costs = statementCosts(before, after, 200);
    expect(costs.map((cost) => cost.statement)).toEqual([describeStatement(verdict), describeStatement(store)]);
    expect(costs[1]).toMatchObject({ calls: 1, execMs: 1, rows: 1, blocks: 10, walRecords: 2, walBytes: 20 });
    expect(costs[0]!.statement).toContain('[writes message_scan, message]');
  });
});

describe(statementTotals.name, () => {
  it('should sum the top-level statements per message (a nested one is inside its caller), without the bench\'s own polling', () => {
    const before: StatementSnapshot = new Map([['1/true', counters('SELECT 1', 100, 50, 1_000)]]);
    const after: StatementSnapshot = new Map([
      ['1/true', counters('SELECT 1', 300, 250, 5_000)],
      ['2/true', counters('UPDATE "message" SET "x" = 1', 100, 100, 2_000)],
      ['5/false', counters('INSERT INTO "message_scan" VALUES ($1)', 400, 40, 400)],
      ['3/true', counters('SELECT pid FROM pg_stat_activity WHERE datname = current_database()', 50, 5, 0)],
    ]);
    const total = statementTotals(before, after, 100);
    expect(total).toMatchObject({ calls: 3, execMs: 3, rows: 3, blocks: 30, walRecords: 6, walBytes: 60 });
    expect(total.statement).toMatch(/^all statements/);
  });
});

import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Runs the compiled logger (libs/observability/dist, as the apps load it) in a child process with stdout on a pipe. */
function runLogger(ending: string) {
  const script = `
    const { createAppLogger } = require('@mailwarden/observability');
    const logger = createAppLogger('logger-test', { level: 'log', format: 'json' });
    logger.log({ event: 'first' });
    logger.log({ event: 'second' });
    logger.warn({ event: 'third' });
    process.stderr.write('corked=' + process.stdout.writableCorked + '\\n');
    ${ending}
  `;
  const result = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8', timeout: 20_000 });
  const events = result.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { message: { event: string } }).message.event);
  return { events, stderr: result.stderr, status: result.status };
}

describe('createAppLogger (stdout lines of one turn in one write)', () => {
  it('holds the lines of one turn and sends them in order on the next', () => {
    const run = runLogger(`setImmediate(() => process.stderr.write('next turn corked=' + process.stdout.writableCorked + '\\n'));`);
    expect(run.stderr).toContain('corked=1\n');
    expect(run.stderr).toContain('next turn corked=0\n');
    expect(run.events).toEqual(['first', 'second', 'third']);
    expect(run.status).toBe(0);
  });

  it('loses no line when the process exits in the same turn', () => {
    const run = runLogger('process.exit(3);');
    expect(run.events).toEqual(['first', 'second', 'third']);
    expect(run.status).toBe(3);
  });

  it('loses no line when the process dies of an uncaught exception in the same turn', () => {
    const run = runLogger(`throw new Error('boom');`);
    expect(run.events).toEqual(['first', 'second', 'third']);
    expect(run.stderr).toContain('boom');
    expect(run.status).toBe(1);
  });

  it('writes errors to stderr at once, not held behind stdout', () => {
    const run = runLogger(`
      logger.error({ event: 'failed' });
      process.stderr.write('after error corked=' + process.stdout.writableCorked + '\\n');
    `);
    expect(run.stderr).toMatch(/"failed"[\s\S]*after error corked=1/);
    expect(run.events).toEqual(['first', 'second', 'third']);
  });
});

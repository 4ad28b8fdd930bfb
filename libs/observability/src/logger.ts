import { ConsoleLogger, type LogLevel } from '@nestjs/common';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/**
 * The app logger: one JSON object per line (Nest's ConsoleLogger in json mode) with the app name,
 * so operators can ship logs as-is. Log objects carry a stable `event` code (docs/log-events.md).
 */
export function createAppLogger(app: string, options: { level: string; format: string }): ConsoleLogger {
  const threshold = LEVELS.indexOf(options.level as LogLevel);
  return new BatchingConsoleLogger(app, {
    json: options.format === 'json',
    colors: false,
    logLevels: LEVELS.slice(0, threshold < 0 ? LEVELS.indexOf('log') + 1 : threshold + 1),
  });
}

/**
 * Writes the stdout lines of one turn of the event loop in one write. At the default level an app logs every
 * message it stores or relays; a group commit finishes many at once, and one write(2) per line (stdout is a pipe
 * under systemd, Docker and the bench) cost the journal ingest ~2 % and the gateway ~4 % of their CPU (bench
 * profiles, issue 20). stdout is corked at the first line of a turn and uncorked by setImmediate, so a line leaves at
 * most one turn later, in order. Lines written to stderr (error, fatal) leave at once; a process that exits, also
 * on an uncaught exception, sends what is held first ('exit' runs while the pipe still takes synchronous writes).
 */
export class BatchingConsoleLogger extends ConsoleLogger {
  protected override printMessages(...args: Parameters<ConsoleLogger['printMessages']>): void {
    if (args[3] !== 'stderr') {
      holdStdoutForThisTurn();
    }
    super.printMessages(...args);
  }
}

let holding = false;
let exitHookInstalled = false;

function releaseStdout(): void {
  if (holding) {
    holding = false;
    process.stdout.uncork();
  }
}

function holdStdoutForThisTurn(): void {
  if (holding || process.stdout.destroyed) {
    return;
  }
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', releaseStdout);
  }
  holding = true;
  process.stdout.cork();
  setImmediate(releaseStdout);
}

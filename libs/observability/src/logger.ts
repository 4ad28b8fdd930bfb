import { ConsoleLogger, type ConsoleLoggerOptions, type LogLevel } from '@nestjs/common';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/** Bytes of log lines held before they are written without waiting for the end of the turn. */
const BATCH_MAX_BYTES = 64 * 1024;

/**
 * Log lines written to a stream once per turn of the event loop (issue 20): the lines that the copies of one turn log
 * go out in one `write` instead of one each. Node writes stdout to a pipe or a file synchronously, a system call per
 * write, and the message paths log a line or two per message (`journal.stored`, `scan.completed`); the profile of
 * the journal ingest at full load had 7 % of its busy time in those writes. A line waits at most until the end of
 * its turn (or until {@link BATCH_MAX_BYTES} are held); `flush` writes at once, and the process's `exit` flushes,
 * so a process that exits (process.exit, an uncaught exception) loses none; a kill -9 loses the lines of the turn it
 * interrupted.
 */
export class BatchedLines {
  private pending: string[] = [];
  private pendingBytes = 0;
  private scheduled = false;

  constructor(
    private readonly stream: Pick<NodeJS.WritableStream, 'write'>,
    private readonly maxBytes = BATCH_MAX_BYTES,
  ) {}

  write(line: string): void {
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= this.maxBytes) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) {
      return;
    }
    const text = this.pending.length === 1 ? this.pending[0]! : this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    this.stream.write(text);
  }
}

/** Where an {@link AppLogger} writes: batched stdout lines, stderr as it is. */
export interface LogStreams {
  stdout: BatchedLines;
  stderr: Pick<NodeJS.WritableStream, 'write'>;
}

let processStdout: BatchedLines | null = null;

/** The process's batched stdout, flushed when the process exits (one for every logger of the process). */
function processStreams(): LogStreams {
  if (!processStdout) {
    const stdout = new BatchedLines(process.stdout);
    process.on('exit', () => stdout.flush());
    processStdout = stdout;
  }
  return { stdout: processStdout, stderr: process.stderr };
}

/**
 * Nest's ConsoleLogger in json mode, writing its stdout lines (log, debug, verbose) through {@link BatchedLines}.
 * Warnings and errors go to stderr at once, after the stdout lines before them, as they may precede a crash. The
 * lines are Nest's own (`getJsonLogObject`, `stringifyJsonLogObject`); the text format is Nest's, unbatched.
 */
class AppLogger extends ConsoleLogger {
  constructor(
    context: string,
    options: ConsoleLoggerOptions,
    private readonly streams: LogStreams,
  ) {
    super(context, options);
  }

  protected override printAsJson(message: unknown, options: Parameters<ConsoleLogger['printAsJson']>[1]): void {
    if (this.options.forceConsole || this.options.colors || this.inspectOptions.compact !== true) {
      return super.printAsJson(message, options);
    }
    const line = `${this.stringifyJsonLogObject(this.getJsonLogObject(message, options))}\n`;
    if (options.writeStreamType === 'stderr') {
      this.streams.stdout.flush();
      this.streams.stderr.write(line);
    } else {
      this.streams.stdout.write(line);
    }
  }
}

/**
 * The app logger: one JSON object per line (Nest's ConsoleLogger in json mode) with the app name,
 * so operators can ship logs as-is. Log objects carry a stable `event` code (docs/log-events.md).
 * The JSON lines to stdout are written once per turn of the event loop ({@link BatchedLines}).
 */
export function createAppLogger(app: string, options: { level: string; format: string }, streams: LogStreams = processStreams()): ConsoleLogger {
  const threshold = LEVELS.indexOf(options.level as LogLevel);
  const settings: ConsoleLoggerOptions = {
    json: options.format === 'json',
    colors: false,
    logLevels: LEVELS.slice(0, threshold < 0 ? LEVELS.indexOf('log') + 1 : threshold + 1),
  };
  return settings.json ? new AppLogger(app, settings, streams) : new ConsoleLogger(app, settings);
}

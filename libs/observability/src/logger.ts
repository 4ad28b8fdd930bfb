import { ConsoleLogger, type LogLevel } from '@nestjs/common';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/**
 * The app logger: one JSON object per line (Nest's ConsoleLogger in json mode) with the app name,
 * so operators can ship logs as-is. Log objects carry a stable `event` code (docs/log-events.md).
 */
export function createAppLogger(app: string, options: { level: string; format: string }): ConsoleLogger {
  const threshold = LEVELS.indexOf(options.level as LogLevel);
  return new ConsoleLogger(app, {
    json: options.format === 'json',
    colors: false,
    logLevels: LEVELS.slice(0, threshold < 0 ? LEVELS.indexOf('log') + 1 : threshold + 1),
  });
}

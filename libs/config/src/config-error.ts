/** Raised when the environment holds a setting Mailwarden cannot use; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: Record<string, string>) {
    super(
      'Invalid configuration: ' +
        Object.entries(problems)
          .map(([name, problem]) => `${name} ${problem}`)
          .join('; '),
    );
    this.name = 'ConfigError';
  }
}

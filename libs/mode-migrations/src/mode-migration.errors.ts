/** Why a migration request was refused; stable API names (the admin API maps them to problem+json). */
export enum MigrationErrorCode {
  AccountNotFound = 'ACCOUNT_NOT_FOUND',
  MigrationNotFound = 'MIGRATION_NOT_FOUND',
  /** Another migration of the account is planned, running, waiting or failed: finish or cancel it first. */
  MigrationAlreadyActive = 'MIGRATION_ALREADY_ACTIVE',
  /** The account is not in the mode the migration starts from. */
  WrongStartingMode = 'WRONG_STARTING_MODE',
  /** The plan's input is incomplete or names domains that do not qualify. */
  InvalidPlan = 'INVALID_PLAN',
  /** The migration is COMPLETED or CANCELLED. */
  MigrationFinished = 'MIGRATION_FINISHED',
  /** A step failed: retry it (or cancel the migration) before advancing. */
  MigrationFailed = 'MIGRATION_FAILED',
  /** Retry asked for while no step failed or waits for the admin. */
  NothingToRetry = 'NOTHING_TO_RETRY',
}

export class MigrationException extends Error {
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'MigrationException';
  }
}

export * from './account-rules.errors';
export * from './domain-mode';
export * from './monitor-only';
export * from './message-direction';
export * from './account-mode.service';
export * from './accounts.module';
export * from './journal-settings';
export * from './mail-path';

export * from './admin-consent';
export * from './app-token.provider';
export * from './graph.client';
export * from './mailbox-limiter';
export * from './mailbox-remediation';
export * from './microsoft365.errors';
export * from './microsoft365.settings';

export * from './effective-policies';
export * from './evaluate-message';
export * from './message-content';
export * from './scan-context.cache';
export * from './scan-message.service';
export * from './scan.errors';
export * from './quarantine-retention';
export * from './scan-metrics';

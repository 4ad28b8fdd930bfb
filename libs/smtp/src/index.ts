export * from './client-limits';
export * from './smtp-error';

export * from './client-limits';
export * from './smtp-error';
export * from './tls-certificate';
export * from './slow-client-guard';
export * from './lookup-cache';
export * from './smtp-transaction';

export * from './client-limits';
export * from './smtp-replies';
export * from './client-address';
export * from './smtp-front';
export * from './tls-certificate';
export * from './slow-client-guard';
export * from './lookup-cache';
export * from './smtp-transaction';

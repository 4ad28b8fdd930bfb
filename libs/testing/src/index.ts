export * from './factories';
export * from './free-port';
export * from './test-database';
export * from './test-env';
export * from './test-redis';
export * from './app-health';
export * from './tcp-proxy';
export * from './journal-builders';

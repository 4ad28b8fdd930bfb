export * from './queue-name';

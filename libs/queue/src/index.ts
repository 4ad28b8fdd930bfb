export * from './queue-name';
export * from './queue.constants';
export * from './queue.module';
export * from './redis-connection';
export * from './redis.health';
export * from './jobs/scan-message.job';
export * from './jobs/delivery.job';
export * from './jobs/export-destination.job';

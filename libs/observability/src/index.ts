export * from './health';
export * from './logger';
export * from './http-metrics';
export * from './metrics';
export * from './observability.constants';
export * from './observability.controller';
export * from './observability.module';
export * from './run-app';

export * from './config';
export * from './config-error';
export * from './config.constants';
export * from './config.module';

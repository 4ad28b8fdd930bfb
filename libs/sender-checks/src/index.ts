export * from './authenticate-message';
export * from './dns-resolver';
export * from './zone-resolver';

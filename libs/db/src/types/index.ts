export * from './message.types';
export * from './page.types';

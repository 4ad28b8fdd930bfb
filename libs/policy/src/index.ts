export * from './policy.types';

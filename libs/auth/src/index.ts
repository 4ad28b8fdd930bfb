export * from './password-policy';
export * from './return-to';
export * from './session-token';
export * from './totp';

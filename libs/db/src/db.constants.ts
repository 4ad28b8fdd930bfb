/** Injection token for DbOptions. */
export const DB_OPTIONS = Symbol('DB_OPTIONS');
/** Injection token for the RawMessageStore in use. */
export const RAW_MESSAGE_STORE = Symbol('RAW_MESSAGE_STORE');

/** DI token of the DNS resolver function (mailauth's resolver shape) the sender checks use. */
export const SENDER_CHECKS_DNS_RESOLVER = Symbol('SENDER_CHECKS_DNS_RESOLVER');

/** DI token of {@link SenderChecksModuleOptions}. */
export const SENDER_CHECKS_OPTIONS = Symbol('SENDER_CHECKS_OPTIONS');

/** Tuning of the gateway SMTP front that is not an environment setting (tests shorten it). */
export interface GatewaySmtpTuning {
  /** How long a shutdown waits for the messages in flight before closing the listener. */
  drainTimeoutMs: number;
  /**
   * PEM CA certificates trusted for TLS client certificates (connector recognition). Unset: Node's bundled public
   * roots, which Microsoft 365's connector certificates chain to; tests set a private CA.
   */
  tlsClientCa?: string;
}

export const DEFAULT_GATEWAY_SMTP_TUNING: GatewaySmtpTuning = {
  drainTimeoutMs: 30_000,
};

export const GATEWAY_SMTP_TUNING = Symbol('GATEWAY_SMTP_TUNING');

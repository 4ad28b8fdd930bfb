/** How Mailwarden's own multi-tenant app registration proves itself to the Microsoft identity platform. */
export type AppCredential =
  | { kind: 'secret'; clientSecret: string }
  /** PEM certificate uploaded to the app registration and its PEM private key (RSA, for PS256). */
  | { kind: 'certificate'; certificatePem: string; privateKeyPem: string };

/** The operator's app registration and the clouds it talks to (sovereign clouds, or the local fake in tests). */
export interface Microsoft365AppSettings {
  clientId: string;
  credential: AppCredential;
  /** https://login.microsoftonline.com (US Gov: https://login.microsoftonline.us, China: https://login.chinacloudapi.cn). */
  loginBaseUrl: string;
  /** https://graph.microsoft.com (US Gov L4: https://graph.microsoft.us, China: https://microsoftgraph.chinacloudapi.cn). */
  graphBaseUrl: string;
  /**
   * Exchange Online's REST host (InvokeCommand), default https://outlook.office365.com (US Gov GCC High:
   * https://outlook.office365.us, China: https://partner.outlook.cn). Its token scope is `<this>/.default`.
   */
  exchangeBaseUrl?: string;
}

export const DEFAULT_EXCHANGE_BASE_URL = 'https://outlook.office365.com';

/** Application permissions Mailwarden's app asks for, and what needs each one. */
export const GRAPH_PERMISSIONS = {
  /** Clawback and restore: find a message by internetMessageId, move it, permanently delete it. */
  mail: 'Mail.ReadWrite',
  /** Directory sync of users and their addresses. */
  users: 'User.Read.All',
  /** Directory sync of groups and their members. */
  groups: 'Group.Read.All',
} as const;

/** Exchange Online application permission for cmdlets through InvokeCommand (plus the Exchange Administrator role). */
export const EXCHANGE_PERMISSION = 'Exchange.ManageAsApp';

export const stripTrailingSlash = (url: string): string => url.replace(/\/+$/, '');

/** The operator's settings as libs/config validated them (admin API and scanner). */
export interface Microsoft365ConfigValues {
  M365_CLIENT_ID: string;
  M365_CLIENT_SECRET: string;
  M365_CERTIFICATE_FILE: string;
  M365_PRIVATE_KEY_FILE: string;
  M365_LOGIN_BASE_URL: string;
  M365_GRAPH_BASE_URL: string;
  M365_EXCHANGE_BASE_URL?: string;
}

/** Builds the app settings from the configuration (reading the certificate files once); null when no app is configured. */
export function microsoft365SettingsFromConfig(config: Microsoft365ConfigValues, readFile: (path: string) => string): Microsoft365AppSettings | null {
  if (!config.M365_CLIENT_ID) {
    return null;
  }
  return {
    clientId: config.M365_CLIENT_ID,
    credential: config.M365_CLIENT_SECRET
      ? { kind: 'secret', clientSecret: config.M365_CLIENT_SECRET }
      : { kind: 'certificate', certificatePem: readFile(config.M365_CERTIFICATE_FILE), privateKeyPem: readFile(config.M365_PRIVATE_KEY_FILE) },
    loginBaseUrl: config.M365_LOGIN_BASE_URL,
    graphBaseUrl: config.M365_GRAPH_BASE_URL,
    exchangeBaseUrl: config.M365_EXCHANGE_BASE_URL || DEFAULT_EXCHANGE_BASE_URL,
  };
}

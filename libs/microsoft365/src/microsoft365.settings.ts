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
}

/** Application permissions Mailwarden's app asks for, and what needs each one. */
export const GRAPH_PERMISSIONS = {
  /** Clawback and restore: find a message by internetMessageId, move it, permanently delete it. */
  mail: 'Mail.ReadWrite',
  /** Directory sync of users and their addresses. */
  users: 'User.Read.All',
  /** Directory sync of groups and their members. */
  groups: 'Group.Read.All',
} as const;

export const stripTrailingSlash = (url: string): string => url.replace(/\/+$/, '');

import { isIP } from 'node:net';
import type { ExportDestinationKind } from '@mailwarden/db';
import { ndjsonFolder, type NdjsonSettings } from './sinks/ndjson.sink';
import type { HecSettings, WebhookSettings } from './sinks/http.sinks';
import type { SyslogSettings } from './sinks/syslog.sink';

export type DestinationSettings = HecSettings | WebhookSettings | SyslogSettings | NdjsonSettings;

/** Secrets per kind, stored encrypted and never returned: HEC token, webhook HMAC secret. */
export interface DestinationCredentials {
  token?: string;
  secret?: string;
}

/** Settings that name the field they are about (the admin API turns it into a 400 with that field). */
export class DestinationSettingsError extends RangeError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field} ${message}`);
  }
}

type Raw = Record<string, unknown>;

const optionalString = (raw: Raw, field: string, max = 256): string | undefined => {
  const value = raw[field];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'string' || value.length === 0 || value.length > max || /[\r\n\0]/.test(value)) {
    throw new DestinationSettingsError(`settings.${field}`, `must be a string of 1-${max} characters on one line`);
  }
  return value;
};

const optionalInt = (raw: Raw, field: string, min: number, max: number): number | undefined => {
  const value = raw[field];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw new DestinationSettingsError(`settings.${field}`, `must be an integer from ${min} to ${max}`);
  }
  return value as number;
};

const optionalBool = (raw: Raw, field: string): boolean | undefined => {
  const value = raw[field];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'boolean') {
    throw new DestinationSettingsError(`settings.${field}`, 'must be true or false');
  }
  return value;
};

const caPem = (raw: Raw) => {
  const value = raw.caPem;
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'string' || value.length > 65_536 || !value.includes('-----BEGIN CERTIFICATE-----')) {
    throw new DestinationSettingsError('settings.caPem', 'must be PEM certificates (at most 64 KiB)');
  }
  return value;
};

function httpUrl(raw: Raw): string {
  const value = raw.url;
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new DestinationSettingsError('settings.url', 'must be an http(s) URL');
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || typeof value !== 'string' || value.length > 2048 || url.username || url.password) {
    throw new DestinationSettingsError('settings.url', 'must be an http(s) URL without user info (credentials go in credentials)');
  }
  return url.toString();
}

const HOST = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * Checks and normalises a destination's settings (only known fields are kept) and that its credentials are there.
 * Throws DestinationSettingsError naming the field.
 */
export function parseDestinationSettings(kind: ExportDestinationKind, raw: unknown, exportRoot: string): DestinationSettings {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new DestinationSettingsError('settings', 'must be an object');
  }
  const input = raw as Raw;
  const clean = <T extends object>(value: T) => Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
  switch (kind) {
    case 'HEC':
      return clean<HecSettings>({
        url: httpUrl(input),
        index: optionalString(input, 'index', 80),
        source: optionalString(input, 'source', 120),
        sourcetype: optionalString(input, 'sourcetype', 120),
        host: optionalString(input, 'host', 255),
        caPem: caPem(input),
        verifyTls: optionalBool(input, 'verifyTls'),
        timeoutMs: optionalInt(input, 'timeoutMs', 100, 120_000),
      });
    case 'WEBHOOK':
      return clean<WebhookSettings>({ url: httpUrl(input), caPem: caPem(input), verifyTls: optionalBool(input, 'verifyTls'), timeoutMs: optionalInt(input, 'timeoutMs', 100, 120_000) });
    case 'SYSLOG': {
      const host = optionalString(input, 'host', 253);
      if (!host || (!HOST.test(host) && isIP(host) === 0)) {
        throw new DestinationSettingsError('settings.host', 'must be a host name or an IP address');
      }
      const port = optionalInt(input, 'port', 1, 65_535);
      if (port === undefined) {
        throw new DestinationSettingsError('settings.port', 'is required');
      }
      return clean<SyslogSettings>({
        host,
        port,
        tls: optionalBool(input, 'tls'),
        caPem: caPem(input),
        verifyTls: optionalBool(input, 'verifyTls'),
        serverName: optionalString(input, 'serverName', 253),
        facility: optionalInt(input, 'facility', 0, 23),
        appName: optionalString(input, 'appName', 48),
        hostname: optionalString(input, 'hostname', 255),
        timeoutMs: optionalInt(input, 'timeoutMs', 100, 120_000),
      });
    }
    case 'NDJSON': {
      const folder = optionalString(input, 'folder', 64);
      try {
        ndjsonFolder(exportRoot, folder ?? '');
      } catch (error) {
        throw new DestinationSettingsError('settings.folder', (error as Error).message.replace(/^folder /, ''));
      }
      return clean<NdjsonSettings>({
        folder: folder!,
        maxBytes: optionalInt(input, 'maxBytes', 1024, 4 * 1024 ** 3),
        maxAgeSeconds: optionalInt(input, 'maxAgeSeconds', 1, 7 * 86_400),
      });
    }
  }
}

/** The credentials a kind needs, checked; null for kinds without secrets. */
export function parseDestinationCredentials(kind: ExportDestinationKind, raw: unknown): DestinationCredentials | null {
  const input = (raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {}) as Raw;
  const secret = (field: 'token' | 'secret', min: number) => {
    const value = input[field];
    if (typeof value !== 'string' || value.length < min || value.length > 512 || /[\r\n\0]/.test(value)) {
      throw new DestinationSettingsError(`credentials.${field}`, `is required: a string of ${min}-512 characters on one line`);
    }
    return value;
  };
  switch (kind) {
    case 'HEC':
      return { token: secret('token', 1) };
    case 'WEBHOOK':
      return { secret: secret('secret', 16) };
    default:
      return null;
  }
}

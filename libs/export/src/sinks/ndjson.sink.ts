import { mkdir, open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { OcsfEvent } from '../ocsf/ocsf-mappers';
import { ExportSinkError, type ExportSink } from './export-sink';

export interface NdjsonSettings {
  /** A folder name under the owner's folder of the export root (EXPORT_FILE_DIR/<owner id>/): letters, digits, `.`, `_`, `-`. */
  folder: string;
  /** Rotate when the current file reaches this many bytes (default 64 MiB). */
  maxBytes?: number;
  /** Rotate when the current file is this old (default 3600 s). */
  maxAgeSeconds?: number;
}

const FOLDER = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,64}$/;
const FILE = /^ocsf-(\d{8}T\d{6}\d{3}Z)-(\d{6})\.ndjson$/;

/** The folder of a destination under the root; refuses anything that could leave the root. */
export function ndjsonFolder(root: string, folder: string): string {
  if (!FOLDER.test(folder)) {
    throw new RangeError('folder must be 1-64 letters, digits, ".", "_" or "-" (a sub-folder of EXPORT_FILE_DIR)');
  }
  return path.join(path.resolve(root), folder);
}

const stamp = (date: Date) => date.toISOString().replace(/[-:.]/g, '');

/**
 * NDJSON files, one event per line, for Amazon Security Lake pipelines, Vector or Fluent Bit. Files are named
 * `ocsf-<UTC start>-<sequence>.ndjson` so they sort in write order; a file is closed for good (rotated) once it
 * reaches `maxBytes` or `maxAgeSeconds`, and only the newest file is ever appended to. Each batch is appended with
 * one write and fsync'd before it counts as sent.
 */
export class NdjsonSink implements ExportSink {
  private readonly dir: string;
  private current?: { name: string; size: number; startedAt: number; sequence: number };

  constructor(
    root: string,
    private readonly settings: NdjsonSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.dir = ndjsonFolder(root, settings.folder);
  }

  async send(events: readonly OcsfEvent[]): Promise<void> {
    const data = Buffer.from(events.map((event) => `${JSON.stringify(event)}\n`).join(''), 'utf8');
    try {
      const file = await this.fileFor(data.byteLength);
      const handle = await open(path.join(this.dir, file.name), 'a');
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      file.size += data.byteLength;
    } catch (error) {
      this.current = undefined;
      throw new ExportSinkError(`ndjson ${this.dir}: ${(error as Error).message}`);
    }
  }

  async close(): Promise<void> {}

  /** The file to append to: the newest one while it is under both limits, else a new one. */
  private async fileFor(bytes: number): Promise<NonNullable<NdjsonSink['current']>> {
    const maxBytes = this.settings.maxBytes ?? 64 * 1024 * 1024;
    const maxAgeMs = (this.settings.maxAgeSeconds ?? 3600) * 1000;
    if (!this.current) {
      await mkdir(this.dir, { recursive: true });
      const newest = (await readdir(this.dir)).filter((name) => FILE.test(name)).sort().at(-1);
      if (newest) {
        const match = FILE.exec(newest)!;
        const started = match[1]!.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/, '$1-$2-$3T$4:$5:$6.$7Z');
        this.current = { name: newest, size: (await stat(path.join(this.dir, newest))).size, startedAt: Date.parse(started), sequence: Number(match[2]) };
      }
    }
    const now = this.now();
    const current = this.current;
    if (current && current.size + bytes <= maxBytes && now - current.startedAt < maxAgeMs) {
      return current;
    }
    // A batch larger than maxBytes still goes into one (new) file: a batch is never split across files.
    if (current && current.size === 0 && now - current.startedAt < maxAgeMs) {
      return current;
    }
    const sequence = (current?.sequence ?? 0) + 1;
    this.current = { name: `ocsf-${stamp(new Date(now))}-${String(sequence).padStart(6, '0')}.ndjson`, size: 0, startedAt: now, sequence };
    return this.current;
  }
}

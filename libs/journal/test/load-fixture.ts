import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Raw bytes of an .eml fixture, exactly as stored (CRLF line ends). */
export function loadFixture(name: string): Buffer {
  return readFileSync(join(__dirname, 'fixtures', name));
}

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The console's message catalogues (src/locales) and its source: every language has every English key with the same
 * placeholders and no empty text, every key the source asks for exists, and no user-visible text is written in the
 * source outside the catalogues (JSX text and the labelling attributes).
 */
const SRC = path.join(__dirname, '..', 'src');
const LANGUAGES = ['en', 'it', 'ja', 'de'];

type Catalogue = { [key: string]: string | Catalogue };

function flatten(catalogue: Catalogue, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(catalogue)) {
    if (typeof value === 'string') out.set(prefix + key, value);
    else for (const [inner, text] of flatten(value, `${prefix}${key}.`)) out.set(inner, text);
  }
  return out;
}

const catalogues = Object.fromEntries(LANGUAGES.map((language) => [language, flatten(JSON.parse(readFileSync(path.join(SRC, 'locales', `${language}.json`), 'utf8')) as Catalogue)]));
const placeholders = (text: string) => [...text.matchAll(/\{\{(\w+)\}\}/g)].map((match) => match[1]).sort();

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sourceFiles(file);
    return /\.(tsx?)$/.test(name) && !name.endsWith('.d.ts') ? [file] : [];
  });
}

/** User-visible text written in the source: JSX text nodes with letters, and literal labelling attributes. */
export function hardCodedText(source: string): string[] {
  const found: string[] = [];
  // After a tag's `>` (not an arrow's `=>`), up to the next `<`.
  for (const match of source.matchAll(/(?<![=-])>([^<>{}]*)</g)) {
    const text = match[1]!.replace(/&[a-z]+;/g, '').trim();
    if (/\p{L}/u.test(text) && !/(=>|&&|\|\||[;()=?])/.test(text)) found.push(text);
  }
  for (const match of source.matchAll(/\b(aria-label|title|placeholder|alt|label)="([^"]*)"/g)) {
    if (/\p{L}/u.test(match[2]!)) found.push(`${match[1]}="${match[2]}"`);
  }
  return found;
}

describe('console message catalogues', () => {
  const english = catalogues.en!;

  it.each(LANGUAGES.filter((language) => language !== 'en'))('has every English key in %s, with the same placeholders, and nothing else', (language) => {
    const catalogue = catalogues[language]!;
    expect([...catalogue.keys()].filter((key) => !english.has(key))).toEqual([]);
    expect([...english.keys()].filter((key) => !catalogue.has(key))).toEqual([]);
    const mismatched = [...english].filter(([key, text]) => placeholders(text).join() !== placeholders(catalogue.get(key) ?? '').join()).map(([key]) => key);
    expect(mismatched).toEqual([]);
  });

  it.each(LANGUAGES)('has no empty text in %s', (language) => {
    expect([...catalogues[language]!].filter(([, text]) => text.trim() === '').map(([key]) => key)).toEqual([]);
  });

  it('has every key the source asks for with a literal t(...) call', () => {
    const missing: string[] = [];
    for (const file of sourceFiles(SRC)) {
      for (const match of readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([\w.-]+)'/g)) {
        if (!english.has(match[1]!)) missing.push(`${path.relative(SRC, file)}: ${match[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('has every value of the enums the pages label', () => {
    // Values the admin API sends (apps/admin-api DTOs and the Prisma enums) that the pages show through enums.*.
    const expected: Record<string, string[]> = {
      action: ['DELIVER', 'TAG_SUBJECT', 'QUARANTINE', 'REJECT'],
      direction: ['INBOUND', 'OUTBOUND', 'INTERNAL', 'EXTERNAL'],
      source: ['JOURNAL', 'GATEWAY', 'MAILFLOW'],
      deliveryState: ['NOT_APPLICABLE', 'QUEUED', 'DELIVERED', 'DEFERRED', 'FAILED', 'QUARANTINED', 'REJECTED'],
      event: ['ACCEPTED', 'SCANNED', 'QUARANTINED', 'DELIVERED', 'DEFERRED', 'FAILED', 'RELEASED', 'DELETED'],
      migrationStatus: ['PLANNED', 'RUNNING', 'WAITING', 'COMPLETED', 'FAILED', 'CANCELLED'],
      stepStatus: ['PENDING', 'RUNNING', 'WAITING_FOR_ADMIN', 'DONE', 'FAILED', 'SKIPPED'],
      check: ['dmarc', 'spf', 'dkim', 'header-anomaly'],
    };
    const missing = Object.entries(expected).flatMap(([group, values]) => values.filter((value) => !english.has(`enums.${group}.${value}`)).map((value) => `${group}.${value}`));
    expect(missing).toEqual([]);
  });

  it('finds no user-visible text written in the source outside the catalogues', () => {
    const found = sourceFiles(SRC)
      .filter((file) => file.endsWith('.tsx'))
      .flatMap((file) => hardCodedText(readFileSync(file, 'utf8')).map((text) => `${path.relative(SRC, file)}: ${text}`));
    expect(found).toEqual([]);
  });

  it('recognises hard-coded text when there is some (the check above can fail)', () => {
    expect(hardCodedText('<p className="x">Release all</p>')).toEqual(['Release all']);
    expect(hardCodedText('<input aria-label="Search" />')).toEqual(['aria-label="Search"']);
    expect(hardCodedText("<p>{t('a.b')}</p><span>{count}</span> &quot;")).toEqual([]);
  });
});

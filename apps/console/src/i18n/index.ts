import i18next, { type BackendModule } from 'i18next';
import { initReactI18next } from 'react-i18next';
import en from '../locales/en.json';

/** The console's languages: English plus those of the product documents the project started from. */
export const LANGUAGES = ['en', 'it', 'ja', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];

export function pickLanguage(candidates: readonly (string | null | undefined)[]): Language {
  for (const candidate of candidates) {
    const base = candidate?.toLowerCase().split(/[-_]/)[0];
    if (base && (LANGUAGES as readonly string[]).includes(base)) return base as Language;
  }
  return 'en';
}

// English ships with the first load; the others are fetched when chosen (each is its own small chunk).
const lazyCatalogues: BackendModule = {
  type: 'backend',
  init: () => undefined,
  read(language, _namespace, callback) {
    const loaders: Record<string, () => Promise<{ default: Record<string, unknown> }>> = {
      it: () => import('../locales/it.json'),
      ja: () => import('../locales/ja.json'),
      de: () => import('../locales/de.json'),
    };
    const load = loaders[language];
    if (!load) {
      callback(null, language === 'en' ? en : {});
      return;
    }
    load().then((module) => callback(null, module.default), (error: Error) => callback(error, null));
  },
};

export const i18n = i18next.createInstance();

export async function startI18n(language: Language): Promise<void> {
  await i18n
    .use(lazyCatalogues)
    .use(initReactI18next)
    .init({
      lng: language,
      fallbackLng: 'en',
      supportedLngs: [...LANGUAGES],
      partialBundledLanguages: true,
      resources: { en: { translation: en } },
      interpolation: { escapeValue: false },
      returnNull: false,
    });
  document.documentElement.lang = language;
  i18n.on('languageChanged', (lng) => {
    document.documentElement.lang = lng;
    localStorage.setItem('mw.language', lng);
  });
}

/** Dates and numbers in the user's language (Intl, no extra library). */
export const formatDateTime = (value: string | Date | null | undefined, language: string): string =>
  value ? new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(value)) : '';

export const formatNumber = (value: number, language: string): string => new Intl.NumberFormat(language).format(value);

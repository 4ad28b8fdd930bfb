import { useState } from 'react';
import { useTranslation } from 'react-i18next';

/** Copies a secret to the clipboard, saying so (or that the browser refused) in a live region. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const { t } = useTranslation();
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
  };
  return (
    <>
      <button type="button" className="secondary small" onClick={() => void copy()}>
        {label}
      </button>{' '}
      <span role="status" className="hint">
        {state === 'copied' ? t('admin.common.copied') : state === 'failed' ? t('admin.common.copyFailed') : ''}
      </span>
    </>
  );
}

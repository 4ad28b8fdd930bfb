/**
 * The part of a subject search handed to the trigram index: its longest run of letters and digits (a run holding a
 * digit wins a tie: numbers of invoices, orders and tickets are rarer than words), or the whole text when no run
 * has the three characters a trigram needs. A substring of the text, so a subject containing the text contains it.
 */
export function subjectIndexFragment(text: string): string {
  let best = '';
  for (const [run] of text.matchAll(/[\p{L}\p{N}]+/gu)) {
    const longer = [...run].length > [...best].length;
    const tie = [...run].length === [...best].length && /\p{N}/u.test(run) && !/\p{N}/u.test(best);
    if (longer || tie) {
      best = run;
    }
  }
  return [...best].length >= 3 ? best : text;
}

/** Luhn (ISO/IEC 7812-1 Annex B) check over a string of digits. */
export function isLuhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) {
    return false;
  }
  let sum = 0;
  for (let index = 0; index < digits.length; index++) {
    let digit = digits.charCodeAt(digits.length - 1 - index) - 48;
    if (index % 2 === 1) {
      digit *= 2;
      if (digit > 9) {
        digit -= 9;
      }
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

export interface CardNumberMatch {
  /** Last four digits only: card numbers never leave this function in full (PCI DSS 3.4 masking). */
  last4: string;
  length: number;
  /** Offset of the first digit in the text. */
  index: number;
}

/** Counts of the work `findCardNumbers` did, for tests that prove its bound without a clock. */
export interface CardSearchWork {
  runs: number;
  /** Groups appended to a candidate window: at most 19 per group of the text. */
  windowSteps: number;
}

/** Maximal runs of digits joined by single spaces or hyphens. No nested quantifier: linear time on any input. */
const DIGIT_RUN = /\d+(?:[ -]\d+)*/g;

/**
 * Payment card numbers (ISO/IEC 7812: 13–19 digits) that pass the Luhn check, written with or without single
 * space or hyphen separators. A run of digit groups is tried whole first, then as windows of whole groups
 * (so "ref 12-4111 1111 1111 1111 exp 12" still finds the card); a group of more than 19 digits is never a card.
 */
export function findCardNumbers(text: string, work?: CardSearchWork): CardNumberMatch[] {
  const matches: CardNumberMatch[] = [];
  for (const run of text.matchAll(DIGIT_RUN)) {
    if (work) {
      work.runs++;
    }
    const groups: { digits: string; index: number }[] = [];
    for (const group of run[0].matchAll(/\d+/g)) {
      groups.push({ digits: group[0], index: run.index + group.index });
    }
    let start = 0;
    while (start < groups.length) {
      let found = -1;
      let digits = '';
      // Longest window of whole groups from `start` that is a Luhn-valid 13–19 digit number.
      for (let end = start; end < groups.length && digits.length + groups[end].digits.length <= 19; end++) {
        digits += groups[end].digits;
        if (work) {
          work.windowSteps++;
        }
        if (digits.length >= 13 && isLuhnValid(digits)) {
          found = end;
        }
      }
      if (found < 0) {
        start++;
        continue;
      }
      const number = groups.slice(start, found + 1).map((group) => group.digits).join('');
      matches.push({ last4: number.slice(-4), length: number.length, index: groups[start].index });
      start = found + 1;
    }
  }
  return matches;
}

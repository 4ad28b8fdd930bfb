import type { SuiteResult } from './suites';

/** Committed minimum pass count per suite (tools/conformance/floors.json). */
export type Floors = Record<string, number>;

/** `spf-rfc7208: 203/203`, plus what was read but not scored. */
export function formatSuiteLine(result: SuiteResult): string {
  return `${result.suite}: ${result.passed}/${result.total}${result.notScored ? ` (${result.notScored})` : ''}`;
}

/** Suites whose pass count dropped below their floor, or that have no floor / no result. */
export function compareWithFloors(results: SuiteResult[], floors: Floors): string[] {
  const drops: string[] = [];
  for (const result of results) {
    const floor = floors[result.suite];
    if (floor === undefined) {
      drops.push(`${result.suite}: no floor in floors.json`);
    } else if (result.passed < floor) {
      drops.push(`${result.suite}: ${result.passed} < floor ${floor}`);
    }
  }
  for (const suite of Object.keys(floors)) {
    if (!results.some((result) => result.suite === suite)) {
      drops.push(`${suite}: floor set but the suite did not run`);
    }
  }
  return drops;
}

import { subjectIndexFragment } from './subject-search';

describe('subjectIndexFragment', () => {
  it('should hand the index the longest run of letters and digits of the searched text', () => {
    expect(subjectIndexFragment('Quarterly report')).toBe('Quarterly');
    expect(subjectIndexFragment('RE: [EXTERNAL] overdue')).toBe('EXTERNAL');
    expect(subjectIndexFragment('Zahlung für März')).toBe('Zahlung');
  });

  it('should prefer a number of four characters or more to any word, and a run holding a digit when two runs are as long', () => {
    expect(subjectIndexFragment('order 1234567')).toBe('1234567');
    expect(subjectIndexFragment('order 5678')).toBe('5678');
    expect(subjectIndexFragment('Invoice INV-2026-000417 overdue')).toBe('000417');
    expect(subjectIndexFragment('order 567')).toBe('order');
    expect(subjectIndexFragment('ab1 xyz')).toBe('ab1');
    expect(subjectIndexFragment('order 12')).toBe('order');
  });

  it('should keep the whole text when no run has three characters (no trigram to look up)', () => {
    expect(subjectIndexFragment('a b c')).toBe('a b c');
    expect(subjectIndexFragment('%%%')).toBe('%%%');
    expect(subjectIndexFragment('e_c')).toBe('e_c');
    expect(subjectIndexFragment('100%')).toBe('100');
  });

  it('should count characters, not UTF-16 units', () => {
    expect(subjectIndexFragment('𝟙𝟚 abc')).toBe('abc');
  });
});

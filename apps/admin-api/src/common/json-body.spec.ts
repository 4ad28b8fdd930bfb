import { jsonDepth, MAX_JSON_DEPTH, refuseDeepJson } from './json-body';

describe('JSON body depth', () => {
  it('should count object and array nesting but not brackets inside strings', () => {
    expect(jsonDepth(Buffer.from('"x"'))).toBe(0);
    expect(jsonDepth(Buffer.from('{"a":[1,{"b":[]}]}'))).toBe(4);
    expect(jsonDepth(Buffer.from('{"a":"[[[{{{\\"[[["}'))).toBe(1);
  });

  it('should refuse a body nested deeper than the limit and accept one at the limit', () => {
    const nested = (levels: number) => Buffer.from(`${'['.repeat(levels)}${']'.repeat(levels)}`);
    expect(() => refuseDeepJson(null, null, nested(MAX_JSON_DEPTH))).not.toThrow();
    expect(() => refuseDeepJson(null, null, nested(5000))).toThrow(/nested deeper/);
  });
});

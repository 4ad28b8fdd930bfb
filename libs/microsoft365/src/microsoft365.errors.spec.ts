import { GraphError } from './microsoft365.errors';
import { parseRetryAfter, odataString } from './graph.client';

describe(GraphError.name, () => {
  it('should read the request id from both spellings of innerError', () => {
    const camel = GraphError.fromResponse(404, { error: { code: 'ErrorItemNotFound', message: 'gone', innerError: { 'request-id': 'r-1' } } });
    const lower = GraphError.fromResponse(403, { error: { code: 'accessDenied', message: 'no', innererror: { 'request-id': 'r-2' } } });
    expect([camel.code, camel.requestId, camel.isNotFound]).toEqual(['ErrorItemNotFound', 'r-1', true]);
    expect([lower.code, lower.requestId, lower.isAccessDenied, lower.isNotFound]).toEqual(['accessDenied', 'r-2', true, false]);
  });

  it('should still type an error without Microsoft JSON', () => {
    const bare = GraphError.fromResponse(502, '<html>bad gateway</html>');
    expect(bare.toJSON()).toEqual({ status: 502, code: 'http-502', message: 'Microsoft Graph answered HTTP 502', requestId: null });
  });
});

describe(parseRetryAfter.name, () => {
  it('should read seconds and HTTP dates, and nothing else', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', Date.parse('2026-01-01T00:00:00Z'))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
  });
});

describe(odataString.name, () => {
  it('should double single quotes', () => {
    expect(odataString("<o'brien@x>")).toBe("'<o''brien@x>'");
  });
});

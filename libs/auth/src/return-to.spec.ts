import { safeReturnTo } from './return-to';

const ORIGIN = 'https://mailwarden.example';

describe('safeReturnTo', () => {
  it.each(['/', '/console/', '/console/messages?direction=INBOUND&q=a%20b', '/console/#/quarantine'])('should keep the same-site path %s', (path) => {
    expect(safeReturnTo(path, ORIGIN)).toBe(path);
  });

  it.each([
    'https://evil.example/',
    'http://mailwarden.example/',
    '//evil.example/x',
    '///evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    'javascript:alert(1)',
    'data:text/html,x',
    'console',
    '',
    '/ok\r\nSet-Cookie: x=y',
    '/tab\there',
    '/a\\b',
    `/${'a'.repeat(2048)}`,
  ])('should refuse %j', (value) => {
    expect(safeReturnTo(value, ORIGIN)).toBeNull();
  });

  it('should refuse what is not a string', () => {
    expect(safeReturnTo(['/'], ORIGIN)).toBeNull();
    expect(safeReturnTo(undefined, ORIGIN)).toBeNull();
  });

  it('should normalise dot segments without leaving the site', () => {
    expect(safeReturnTo('/console/../../../x', ORIGIN)).toBe('/x');
  });
});

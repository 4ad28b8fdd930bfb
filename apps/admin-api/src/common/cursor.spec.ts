import { decodeCursor, decodeDate, decodeUuid, encodeCursor, setCursorSigningKey, toPage } from './cursor';
import { ApiProblem } from './problem-code';

describe('cursor pagination', () => {
  it('should round-trip a keyset cursor and refuse anything it did not produce', () => {
    const cursor = encodeCursor({ receivedAt: '2026-11-25T10:00:00.000Z', id: '7d0f4d8e-1a2b-4c3d-8e9f-0a1b2c3d4e5f' });
    expect(decodeCursor(cursor, ['receivedAt', 'id'])).toEqual({ receivedAt: '2026-11-25T10:00:00.000Z', id: '7d0f4d8e-1a2b-4c3d-8e9f-0a1b2c3d4e5f' });
    expect(decodeCursor(undefined, ['id'])).toBeUndefined();
    for (const bad of ['%%%', encodeCursor({ other: 'x' }), Buffer.from('[1]').toString('base64url')]) {
      expect(() => decodeCursor(bad, ['receivedAt', 'id'])).toThrow(ApiProblem);
    }
    expect(() => decodeDate('yesterday')).toThrow(ApiProblem);
    // Out of PostgreSQL's range (it answered 22008/22009 and the API a 500).
    expect(() => decodeDate('+275760-09-13T00:00:00.000Z')).toThrow(ApiProblem);
    expect(() => decodeDate('-000001-01-01T00:00:00.000Z')).toThrow(ApiProblem);
    expect(decodeDate('9999-12-31T00:00:00.000Z').getUTCFullYear()).toBe(9999);
    expect(() => decodeUuid("x' OR 1=1")).toThrow(ApiProblem);
  });

  it('should refuse a cursor it did not sign: forged, edited, re-signed with another key, or of a list with other sort keys', () => {
    const key = { receivedAt: '2026-11-25T10:00:00.000Z', id: '7d0f4d8e-1a2b-4c3d-8e9f-0a1b2c3d4e5f' };
    const forged = Buffer.from(JSON.stringify({ ...key, receivedAt: '+275760-09-13T00:00:00.000Z' })).toString('base64url');
    const cursor = encodeCursor(key);
    const [payload, signature] = cursor.split('.');
    const edited = `${Buffer.from(JSON.stringify({ ...key, id: '00000000-0000-4000-8000-000000000000' })).toString('base64url')}.${signature}`;
    for (const bad of [forged, `${forged}.${signature}`, edited, `${payload}.`, `${cursor}.x`]) {
      expect(() => decodeCursor(bad, ['receivedAt', 'id'])).toThrow(ApiProblem);
    }
    expect(() => decodeCursor(encodeCursor({ occurredAt: key.receivedAt, id: key.id }), ['receivedAt', 'id'])).toThrow(ApiProblem);
    setCursorSigningKey(Buffer.alloc(32, 1));
    const other = encodeCursor(key);
    setCursorSigningKey(Buffer.alloc(32, 2));
    expect(() => decodeCursor(other, ['receivedAt', 'id'])).toThrow(ApiProblem);
    expect(decodeCursor(encodeCursor(key), ['receivedAt', 'id'])).toEqual(key);
  });

  it('should cut the extra row and point the next cursor at the last row of the page', () => {
    const rows = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
    const page = toPage(rows, 2, (row) => ({ id: row.id }), (row) => row.id);
    expect(page.items).toEqual(['a', 'b']);
    expect(decodeCursor(page.nextCursor!, ['id'])).toEqual({ id: 'b' });
    expect(toPage(rows, 3, (row) => ({ id: row.id }), (row) => row.id).nextCursor).toBeNull();
  });
});

import { Prisma } from '../../generated/prisma/client';
import { newMessageId, receivedAround } from './message-writes.sql';

describe('time-ordered message ids', () => {
  it('should make RFC 9562 version-7 UUIDs carrying the time, ordered by it', () => {
    const at = Date.UTC(2026, 11, 5, 12, 0, 0, 123);
    const id = newMessageId(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
    expect(newMessageId(at + 1) > id).toBe(true);
    expect(new Set(Array.from({ length: 1000 }, () => newMessageId(at))).size).toBe(1000);
  });

  it("should bound a version-7 id's partition key to a day either side of its time, and leave any other id unbounded", () => {
    const at = Date.UTC(2026, 11, 5, 12);
    const bounds = receivedAround(newMessageId(at), Prisma.sql`"received_at"`);
    expect(bounds.values).toEqual([new Date(at - 86_400_000), new Date(at + 86_400_000)]);
    expect(receivedAround('0167e6a4-d2f8-43ab-bbfa-7c22b685624a', Prisma.sql`"received_at"`).text).toBe('');
    expect(receivedAround("x' OR true --", Prisma.sql`"received_at"`).text).toBe('');
  });
});

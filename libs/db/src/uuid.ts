const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for an id the uuid columns can hold; repositories answer anything else as "not found" (no SQL error). */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}

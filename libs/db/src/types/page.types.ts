/** Keyset position of a list ordered newest first (`createdAt` descending, ties broken by `id` descending). */
export interface CreatedAtKey {
  createdAt: Date;
  id: string;
}

import { flexRender, type Table } from '@tanstack/react-table';
import { useTranslation } from 'react-i18next';

/** A TanStack table as a real <table> (caption, column headers), shared by the list pages. */
export function DataTable<T>({ table, caption, testId }: { table: Table<T>; caption: string; testId: string }) {
  return (
    <table className="grid" data-testid={testId}>
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        {table.getHeaderGroups().map((group) => (
          <tr key={group.id}>
            {group.headers.map((header) => (
              <th key={header.id} scope="col">
                {flexRender(header.column.columnDef.header, header.getContext())}
              </th>
            ))}
          </tr>
        ))}
      </thead>
      <tbody>
        {table.getRowModel().rows.map((row) => (
          <tr key={row.id}>
            {row.getVisibleCells().map((cell) => (
              <td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Cursor paging (the API's `nextCursor`): a stack of the cursors that led to this page. */
export function Pager({ cursors, setCursors, nextCursor }: { cursors: (string | null)[]; setCursors: (cursors: (string | null)[]) => void; nextCursor: string | null | undefined }) {
  const { t } = useTranslation();
  return (
    <div className="pager">
      <button type="button" className="secondary" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
        {t('common.previous')}
      </button>
      <button type="button" className="secondary" disabled={!nextCursor} onClick={() => nextCursor && setCursors([...cursors, nextCursor])}>
        {t('common.next')}
      </button>
    </div>
  );
}

/**
 * Fixed-width text tables: every column as wide as its widest cell, two spaces apart, no
 * trailing blanks. Colour is applied to cells by the caller and ignored when measuring.
 */
import { stripAnsi } from './terminal';

/** One column of a {@link renderTable} table. */
export interface TableColumn {
  header: string;
  /** Numbers read better right-aligned. Defaults to `left`. */
  align?: 'left' | 'right';
}

const GAP = '  ';

/**
 * Renders `rows` under `columns` as lines of text, header first. Missing cells are blank.
 *
 * @example
 * ```ts
 * renderTable([{ header: 'NAME' }, { header: 'N', align: 'right' }], [['a', '1'], ['bcd', '22']]);
 * // ['NAME   N', 'a      1', 'bcd   22']
 * ```
 */
export function renderTable(columns: readonly TableColumn[], rows: readonly (readonly string[])[]): string[] {
  const widths = columns.map((c, i) =>
    Math.max(visibleLength(c.header), ...rows.map((r) => visibleLength(r[i] ?? ''))),
  );
  const line = (cells: readonly string[]): string =>
    columns
      .map((c, i) => pad(cells[i] ?? '', widths[i] ?? 0, c.align ?? 'left'))
      .join(GAP)
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)];
}

function visibleLength(text: string): number {
  return [...stripAnsi(text)].length;
}

function pad(text: string, width: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, width - visibleLength(text)));
  return align === 'right' ? fill + text : text + fill;
}

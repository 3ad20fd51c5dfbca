import { describe, expect, it } from 'vitest';
import { renderTable } from '../../../cli/table';
import { palette, stripAnsi } from '../../../cli/terminal';

describe('renderTable', () => {
  it('makes every column as wide as its widest cell, two spaces apart, with no trailing blanks', () => {
    const lines = renderTable(
      [{ header: 'NAME' }, { header: 'N', align: 'right' }, { header: 'NOTE' }],
      [
        ['a', '1', 'x'],
        ['bcdef', '22', ''],
      ],
    );
    expect(lines).toEqual(['NAME    N  NOTE', 'a       1  x', 'bcdef  22']);
  });

  it('measures coloured cells by what a reader sees', () => {
    const colour = palette(true);
    const lines = renderTable([{ header: 'STATE' }, { header: 'X' }], [[colour.red('expired'), 'y']]);
    expect(lines.map(stripAnsi)).toEqual(['STATE    X', 'expired  y']);
    expect(lines[1]).toContain('\u001b[31mexpired\u001b[39m');
  });

  it('renders missing cells as blanks', () => {
    expect(renderTable([{ header: 'A' }, { header: 'B' }], [['1']])).toEqual(['A  B', '1']);
  });
});

import { describe, expect, it } from 'vitest';
import { median, percentile } from '../../bench/stats';
import {
  type BenchResults,
  type BenchRowInput,
  formatNumber,
  formatRatio,
  formatResultsJson,
  formatTable,
  row,
} from '../../bench/table';

const input = (overrides: Partial<BenchRowInput> = {}): BenchRowInput => ({
  benchmark: 'idle-sweep',
  name: 'idle sweep, 1,000 credentials: AWS calls',
  value: 20,
  unit: 'calls',
  baseline: 'naive sweep',
  baselineValue: 1020,
  meaning: 'lower is better',
  ...overrides,
});

describe('row', () => {
  it('computes the ratio as value divided by baseline value', () => {
    expect(row(input({ value: 30, baselineValue: 10 })).ratio).toBe(3);
  });

  it('has no ratio when the baseline is zero', () => {
    expect(row(input({ value: 0, baselineValue: 0 })).ratio).toBeNull();
  });
});

describe('formatNumber and formatRatio', () => {
  it.each([
    [1_118_946, '1,118,946'],
    [563.4, '563'],
    [61.04, '61.0'],
    [4.123, '4.12'],
    [0, '0'],
    [0.0012, '0.0012'],
  ])('formats %d as %s', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });

  it.each([
    [0.0196, '0.0196×'],
    [2.5, '2.50×'],
    [0, '0×'],
    [null, 'n/a'],
    [512.4, '512×'],
  ])('formats the ratio %s as %s', (ratio, text) => {
    expect(formatRatio(ratio)).toBe(text);
  });
});

describe('formatTable', () => {
  it('prints a header, a rule and one aligned line per row', () => {
    // Act
    const lines = formatTable([row(input()), row(input({ name: 'short', value: 0, baselineValue: 0 }))]).split('\n');

    // Assess
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^\| benchmark +\| measured +\| +value \| baseline +\| baseline value \| +ratio \| what/);
    expect(lines[1]).toMatch(/^\|-+\|-+\|-+:\|/);
    expect(lines[2]).toMatch(/\| +20 calls \|/);
    expect(lines[2]).toMatch(/\| +1,020 calls \|/);
    expect(lines[2]).toMatch(/\| +0\.0196× \|/);
    expect(lines[3]).toMatch(/\| +n\/a \|/);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });
});

describe('formatResultsJson', () => {
  it('writes the rows with their ratio, the environment and the details as indented JSON', () => {
    // Prepare
    const results: BenchResults = {
      environment: {
        date: '2026-11-22T08:00:00.000Z',
        node: 'v20.20.2',
        platform: 'linux x64',
        cpus: 2,
        cpuModel: 'test cpu',
        memoryGiB: 24,
      },
      durationSeconds: 1.5,
      rows: [row(input({ value: 0, baselineValue: 0 }))],
      details: { 'idle-sweep': { rounds: 3 } },
    };

    // Act
    const text = formatResultsJson(results);

    // Assess
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('\n  "rows": [');
    expect(JSON.parse(text)).toEqual(results);
    expect(JSON.parse(text).rows[0].ratio).toBeNull();
  });
});

describe('median and percentile', () => {
  it('takes the middle sample, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('takes the nearest-rank percentile', () => {
    const samples = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
    expect(percentile(samples, 90)).toBe(9);
    expect(percentile(samples, 100)).toBe(10);
    expect(percentile([], 90)).toBeNaN();
  });
});

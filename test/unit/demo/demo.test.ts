/**
 * The demo's pure parts: the simulated clock, the summary's verdict, the URL redaction, and the
 * `demo` command's options (usage errors exit 1 before anything starts).
 */
import { describe, expect, it } from 'vitest';
import { parseDemoDuration, parseDemoSpeed } from '../../../cli/commands/demo';
import { runCli } from '../../../cli/program';
import { type DemoSummary, problemsOf, totalsOf } from '../../../demo/demo-summary';
import { redactJwtParameter } from '../../../demo/sample-workload';
import { SimulatedClock } from '../../../demo/simulated-clock';

function buffer() {
  const chunks: string[] = [];
  return { write: (chunk: string) => chunks.push(chunk), text: () => chunks.join('') };
}

function summary(overrides: Partial<DemoSummary> = {}): Omit<DemoSummary, 'problems'> {
  const credentials = [
    { credential: 'sirv-demo', issuer: 'sirv', refreshes: 2, generation: 3, reads: 10, expiredReads: 0, errors: 0 },
    { credential: 'upload-demo', issuer: 'upload', refreshes: 1, generation: 2, reads: 10, expiredReads: 0, errors: 0 },
  ];
  return {
    outcome: 'completed',
    prefix: 'token-rotator-demo-abc123/',
    speed: 30,
    realSeconds: 20,
    simulatedSeconds: 600,
    sweeps: 10,
    credentials,
    totals: totalsOf(credentials),
    protectedUrl: { created: 10, failed: 0, example: 'https://demo.sirv.com/a.jpg?jwt=[redacted]' },
    stack: { up: 'succeeded', destroy: 'succeeded', secretsLeft: 0 },
    timings: { setup: 1, up: 5, run: 20, destroy: 2 },
    ...overrides,
  };
}

describe('SimulatedClock', () => {
  it('shows real time until accelerated, then runs faster from the instant it showed, without a jump', () => {
    // Prepare
    let real = Date.parse('2026-11-22T12:00:00Z');
    const clock = new SimulatedClock(() => real);

    // Act and assess
    real += 10_000;
    expect(clock.now().toISOString()).toBe('2026-11-22T12:00:10.000Z');
    clock.accelerate(30);
    expect(clock.now().toISOString()).toBe('2026-11-22T12:00:10.000Z');
    real += 2_000;
    expect(clock.now().toISOString()).toBe('2026-11-22T12:01:10.000Z');
    expect(clock.realMsFor(60_000)).toBe(2_000);
  });
});

describe('problemsOf', () => {
  it('finds none in a run where everything was refreshed and cleaned up', () => {
    expect(problemsOf(summary())).toEqual([]);
  });

  it('names the credentials never refreshed, expired reads, errors, a failed destroy and leftovers', () => {
    // Prepare
    const credentials = [
      { credential: 'sirv-demo', issuer: 'sirv', refreshes: 0, generation: 1, reads: 3, expiredReads: 1, errors: 2 },
    ];

    // Act
    const problems = problemsOf(
      summary({
        credentials,
        totals: totalsOf(credentials),
        stack: { up: 'succeeded', destroy: 'failed', secretsLeft: 2 },
      }),
    );

    // Assess
    expect(problems).toEqual([
      expect.stringContaining('never refreshed: sirv-demo'),
      '1 read(s) found an expired token',
      '2 error(s) during the run',
      'pulumi destroy failed',
      '2 secret(s) left under token-rotator-demo-abc123/',
    ]);
  });
});

describe('redactJwtParameter', () => {
  it('replaces the jwt query parameter and keeps the rest of the URL', () => {
    expect(redactJwtParameter('https://demo.sirv.com/a.jpg?w=600&jwt=eyJhbGciOi.eyJmaWxl.sig&x=1')).toBe(
      'https://demo.sirv.com/a.jpg?w=600&jwt=[redacted]&x=1',
    );
  });
});

describe('token-rotator demo options', () => {
  it('accepts whole numbers within bounds', () => {
    expect(parseDemoDuration('20')).toBe(20);
    expect(parseDemoSpeed('120')).toBe(120);
  });

  it.each([
    ['--duration', '4'],
    ['--duration', '1.5'],
    ['--speed', '0'],
    ['--speed', '121'],
  ])('exits 1 on %s %s before starting anything', async (flag, value) => {
    // Prepare
    const stdout = buffer();
    const stderr = buffer();

    // Act
    const code = await runCli(['demo', flag, value], { stdout, stderr, env: {} });

    // Assess
    expect(code).toBe(1);
    expect(stderr.text()).toContain(`option '${flag}`);
    expect(stdout.text()).toBe('');
  });

  it('lists demo with its exit codes in the help', async () => {
    const stdout = buffer();
    const code = await runCli(['demo', '--help'], { stdout, stderr: buffer(), env: {} });
    expect(code).toBe(0);
    expect(stdout.text()).toContain('--json-summary');
    expect(stdout.text()).toContain('130 interrupted');
  });
});

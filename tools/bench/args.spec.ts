import { parseArgs, parseCount, parseSize } from './args';

describe(parseArgs.name, () => {
  it('should default to the issue figures: 5,000 messages of 20 KB, 8 reused connections, 3 rounds, every scenario', () => {
    expect(parseArgs([])).toEqual({
      messages: 5000,
      sizeBytes: 20480,
      connections: 8,
      rounds: 3,
      reuse: true,
      scenarios: ['ingest', 'e2e', 'export', 'gateway', 'scale', 'growth', 'stats', 'peers'],
      rate: null,
      tailVariants: ['base', 'no-flush'],
      growth: [10_000, 100_000, 1_000_000],
      workers: [1, 2, 4],
      searches: 200,
      statsPerDay: 200_000,
      statsRequests: 100,
      cpuProf: false,
      inlineScan: true,
      inlineDelivery: true,
      smtpProcesses: 1,
      quick: false,
    });
  });

  it('should read every option', () => {
    const options = parseArgs(['--messages', '1,000', '--size', '1mb', '--connections', '4', '--rounds', '5', '--no-reuse', '--scenarios', 'e2e,ingest', '--growth', '100k,10k', '--workers', '2', '--searches', '50', '--cpu-prof', '--stats-per-day', '1m', '--stats-requests', '20', '--no-inline-scan', '--no-inline-delivery']);
    expect(options).toMatchObject({ inlineScan: false, inlineDelivery: false, messages: 1000, sizeBytes: 1024 ** 2, connections: 4, rounds: 5, reuse: false, scenarios: ['e2e', 'ingest'], growth: [10_000, 100_000], workers: [2], searches: 50, cpuProf: true, statsPerDay: 1_000_000, statsRequests: 20 });
  });

  it('should read the tail experiment: a fixed rate and the variants, refusing an unknown one (tail is not run by default)', () => {
    expect(parseArgs(['--scenarios', 'tail', '--rate', '60', '--tail-variants', 'base,no-flush,checkpoint,no-autovacuum,warm'])).toMatchObject({
      scenarios: ['tail'],
      rate: 60,
      tailVariants: ['base', 'no-flush', 'checkpoint', 'no-autovacuum', 'warm'],
    });
    expect(parseArgs([]).scenarios).not.toContain('tail');
    expect(() => parseArgs(['--tail-variants', 'base,fast'])).toThrow(/--tail-variants: unknown variant "fast"/);
    expect(() => parseArgs(['--rate', '0'])).toThrow(/--rate: not a positive count/);
  });

  it('should read how many processes of each SMTP app share the port (issue 20), one by default, refusing nonsense', () => {
    expect(parseArgs(['--smtp-processes', '2', '--scenarios', 'peers,e2e,gateway'])).toMatchObject({ smtpProcesses: 2, scenarios: ['peers', 'e2e', 'gateway'] });
    expect(parseArgs(['--quick']).smtpProcesses).toBe(1);
    expect(() => parseArgs(['--smtp-processes', '0'])).toThrow(/^--smtp-processes: not a positive count/);
    expect(() => parseArgs(['--smtp-processes', '1.5'])).toThrow(/^--smtp-processes: not a positive count/);
    expect(() => parseArgs(['--smtp-processes', '17'])).toThrow(/^--smtp-processes: at most 16 processes, not 17/);
    expect(() => parseArgs(['--smtp-processes'])).toThrow(/^--smtp-processes: needs a value/);
  });

  it('should let explicit values win over --quick, before or after it', () => {
    expect(parseArgs(['--quick'])).toMatchObject({ quick: true, messages: 300, rounds: 1, growth: [10_000] });
    expect(parseArgs(['--messages', '1000', '--quick', '--rounds', '3'])).toMatchObject({ quick: true, messages: 1000, rounds: 3, growth: [10_000] });
  });

  it('should refuse unknown flags, unknown scenarios and missing or bad values, naming the flag', () => {
    expect(() => parseArgs(['--mesages', '10'])).toThrow(/^--mesages: unknown option/);
    expect(() => parseArgs(['--scenarios', 'ingest,speed'])).toThrow(/unknown scenario "speed"/);
    expect(() => parseArgs(['--messages'])).toThrow(/^--messages: needs a value/);
    expect(() => parseArgs(['--rounds', '--quick'])).toThrow(/needs a value/);
    expect(() => parseArgs(['--connections', '0'])).toThrow(/--connections: not a positive count/);
  });
});

describe(parseCount.name, () => {
  it('should read plain, grouped and k/m suffixed counts', () => {
    expect(parseCount('2500')).toBe(2500);
    expect(parseCount('10k')).toBe(10_000);
    expect(parseCount('1M')).toBe(1_000_000);
    expect(parseCount('1.5k')).toBe(1500);
    expect(() => parseCount('1.5')).toThrow();
    expect(() => parseCount('-3')).toThrow();
  });
});

describe(parseSize.name, () => {
  it('should read bytes and binary kb/mb', () => {
    expect(parseSize('20kb')).toBe(20480);
    expect(parseSize('20k')).toBe(20480);
    expect(parseSize('2mb')).toBe(2 * 1024 ** 2);
    expect(parseSize('512')).toBe(512);
    expect(() => parseSize('20 gigs')).toThrow(/not a size/);
  });
});

import { processGroup, type BenchChild } from './processes';

function fakeChild(name: string, figures: { cpuMs: number | null; peakRssMb: number | null; readyRssMb: number | null }, stopped: string[]): BenchChild {
  return { name, pid: name.length, cpuMs: () => figures.cpuMs, peakRssMb: () => figures.peakRssMb, readyRssMb: figures.readyRssMb, errors: () => `${name} failed`, stop: async () => void stopped.push(name) };
}

describe(processGroup.name, () => {
  it('should be the process itself when there is one, so a run of one process reads as before', () => {
    const only = fakeChild('journal-ingest', { cpuMs: 10, peakRssMb: 100, readyRssMb: 80 }, []);
    expect(processGroup('journal-ingest', [only])).toBe(only);
  });

  it("should sum the processes' CPU, take the largest peak RSS, and stop them all", async () => {
    const stopped: string[] = [];
    const group = processGroup('scanner', [
      fakeChild('scanner#1', { cpuMs: 1200, peakRssMb: 150, readyRssMb: 90 }, stopped),
      fakeChild('scanner#2', { cpuMs: 800, peakRssMb: 170, readyRssMb: 85 }, stopped),
    ]);
    expect(group).toMatchObject({ name: 'scanner', readyRssMb: 90 });
    expect(group.cpuMs()).toBe(2000);
    expect(group.peakRssMb()).toBe(170);
    expect(group.errors()).toBe('scanner#1: scanner#1 failed\nscanner#2: scanner#2 failed');
    await group.stop();
    expect(stopped.sort()).toEqual(['scanner#1', 'scanner#2']);
  });

  it('should read nothing (null) once one of its processes is gone, rather than a partial sum', () => {
    const group = processGroup('scanner', [fakeChild('scanner#1', { cpuMs: 1200, peakRssMb: 150, readyRssMb: 90 }, []), fakeChild('scanner#2', { cpuMs: null, peakRssMb: null, readyRssMb: 85 }, [])]);
    expect(group.cpuMs()).toBeNull();
    expect(group.peakRssMb()).toBeNull();
  });
});

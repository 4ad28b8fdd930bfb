import { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { BatchedLines, createAppLogger } from './logger';

/** A stream that records each write call as it came. */
function recordingStream(): { stream: Writable; writes: string[] } {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      writes.push(chunk.toString());
      done();
    },
  });
  return { stream, writes };
}

describe('BatchedLines', () => {
  it('writes the lines of one turn of the event loop in one write, in order', async () => {
    const { stream, writes } = recordingStream();
    const lines = new BatchedLines(stream);
    lines.write('a\n');
    lines.write('b\n');
    lines.write('c\n');
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toEqual(['a\nb\nc\n']);
    lines.write('d\n');
    await nextTurn();
    expect(writes).toEqual(['a\nb\nc\n', 'd\n']);
  });

  it('writes at once when the held lines reach the size bound, and on flush', () => {
    const { stream, writes } = recordingStream();
    const lines = new BatchedLines(stream, 10);
    lines.write('12345\n');
    expect(writes).toEqual([]);
    lines.write('67890\n');
    expect(writes).toEqual(['12345\n67890\n']);
    lines.write('x\n');
    lines.flush();
    expect(writes).toEqual(['12345\n67890\n', 'x\n']);
    lines.flush();
    expect(writes).toHaveLength(2);
  });
});

describe('createAppLogger (json)', () => {
  it('batches stdout lines; an error line is written at once, after the stdout lines before it', async () => {
    const out = recordingStream();
    const err = recordingStream();
    const logger = createAppLogger('test-app', { level: 'log', format: 'json' }, { stdout: new BatchedLines(out.stream), stderr: err.stream });
    logger.log({ event: 'one', n: 1 }, 'Ctx');
    logger.log({ event: 'two', n: 2 }, 'Ctx');
    expect(out.writes).toEqual([]);
    logger.error({ event: 'bad' }, undefined, 'Ctx');
    expect(out.writes).toHaveLength(1);
    const [one, two] = out.writes[0]!.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(one).toMatchObject({ level: 'log', context: 'Ctx', message: { event: 'one', n: 1 } });
    expect(two).toMatchObject({ message: { event: 'two', n: 2 } });
    expect(err.writes).toHaveLength(1);
    expect(JSON.parse(err.writes[0]!)).toMatchObject({ level: 'error', message: { event: 'bad' } });
    logger.log({ event: 'three' }, 'Ctx');
    await nextTurn();
    expect(out.writes).toHaveLength(2);
    expect(JSON.parse(out.writes[1]!)).toMatchObject({ message: { event: 'three' } });
  });

  it('leaves the text format as Nest writes it', () => {
    const logger = createAppLogger('test-app', { level: 'log', format: 'text' });
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      logger.log('hello', 'Ctx');
      expect(write).toHaveBeenCalledTimes(1);
      expect(String(write.mock.calls[0]![0])).toContain('hello');
    } finally {
      write.mockRestore();
    }
  });
});

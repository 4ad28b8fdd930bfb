import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { MIN_LINE_PROGRESS_OCTETS, SLOW_CLIENT_REPLY, watchLineProgress } from './slow-client-guard';

/** The parts of a socket the guard uses: 'data' and 'close' events, end() and destroy(). */
function fakeSocket() {
  const socket = Object.assign(new EventEmitter(), { end: jest.fn(), destroy: jest.fn() });
  watchLineProgress(socket as unknown as Socket, 1_500);
  const send = (text: string) => socket.emit('data', Buffer.from(text, 'latin1'));
  return { socket, send };
}

describe(watchLineProgress.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('should close with 421 a client that trickles a line one byte a second', () => {
    const { socket, send } = fakeSocket();
    for (let second = 0; second < 2; second++) {
      send('E');
      jest.advanceTimersByTime(1_000);
    }
    expect(socket.end).toHaveBeenCalledWith(SLOW_CLIENT_REPLY);
    jest.advanceTimersByTime(1_000);
    expect(socket.destroy).toHaveBeenCalled();
  });

  it('should leave alone a client that ends its lines, however long it then stays idle', () => {
    const { socket, send } = fakeSocket();
    send('EHLO client.example\r\n');
    jest.advanceTimersByTime(10_000);
    send('NOOP');
    jest.advanceTimersByTime(1_000);
    send('\r\n');
    jest.advanceTimersByTime(10_000);
    expect(socket.end).not.toHaveBeenCalled();
  });

  it('should let a long line run on while each window brings a text line worth of octets', () => {
    const { socket, send } = fakeSocket();
    for (let window = 0; window < 5; window++) {
      send('x'.repeat(MIN_LINE_PROGRESS_OCTETS));
      jest.advanceTimersByTime(1_500);
    }
    expect(socket.end).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1_500);
    expect(socket.end).toHaveBeenCalledWith(SLOW_CLIENT_REPLY);
  });

  it('should time the partial line after a line end in the same chunk', () => {
    const { socket, send } = fakeSocket();
    send('NOOP\r\nMAIL FR');
    jest.advanceTimersByTime(1_600);
    expect(socket.end).toHaveBeenCalledWith(SLOW_CLIENT_REPLY);
  });

  it('should stop timing once the socket closes', () => {
    const { socket, send } = fakeSocket();
    send('HALF');
    socket.emit('close');
    jest.advanceTimersByTime(5_000);
    expect(socket.end).not.toHaveBeenCalled();
  });
});

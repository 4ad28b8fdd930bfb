// Micro-benchmark of fewer writes per message (tools/bench/README.md, "Replies and log lines in fewer writes"):
// npm run -s build && node tools/bench/micro/pipelined-replies.mjs [messagesPerBlock] [blocks]
// A/B in one process, interleaved blocks (A B B A …), so that the machine's drift falls on both alike.
// 1. SMTP replies: two smtp-server listeners configured like the fronts (async MAIL/RCPT handlers, the 250 after the
//    whole message), one plain (A), one with libs/smtp's batchPipelinedReplies (B). A child process runs the bench's
//    load client (8 reused connections, MAIL/RCPT/DATA pipelined, 20 KB messages) against one of them per block;
//    this process measures its own CPU (process.cpuUsage: it only serves) and counts the socket writes it issues
//    (one libuv write request, i.e. one write/writev syscall, per Socket._writeGeneric call).
// 2. Log lines: a child process with stdout on a pipe logs `lines` JSON lines per turn of the event loop through
//    Nest's ConsoleLogger (A) or libs/observability's createAppLogger (B), and reports its CPU per line.
import { fork } from 'node:child_process';
import net from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const perBlock = Number(process.argv[2] ?? 2000);
const blocks = Number(process.argv[3] ?? 8);
const orderOf = (count) => Array.from({ length: count }, (_, i) => (i % 4 === 0 || i % 4 === 3 ? 'A' : 'B'));
const order = orderOf(blocks);

if (process.argv[2] === '--client') {
  // The load client (child): runs one block per request from the parent.
  const { runLoad } = require(path.join(ROOT, 'dist/tools/bench/load.js'));
  const { toDataPayload } = require(path.join(ROOT, 'dist/tools/bench/smtp-client.js'));
  const body = `From: a@sender.test\r\nTo: b@example.test\r\nSubject: micro\r\n\r\n${'x'.repeat(76).concat('\r\n').repeat(260)}`;
  const payload = toDataPayload(Buffer.from(body));
  process.on('message', async ({ port, count }) => {
    const jobs = Array.from({ length: count }, () => ({ from: 'a@sender.test', to: ['b@example.test'], payload }));
    const result = await runLoad({ port, connections: 8, reuse: true, jobs });
    process.send({ accepted: result.accepted, msgsPerSec: result.msgsPerSec });
  });
} else if (process.argv[2] === '--logger') {
  // The logger child: stdout is a pipe to the parent, which throws the bytes away.
  const { ConsoleLogger } = require('@nestjs/common');
  const { createAppLogger } = require('@mailwarden/observability');
  const loggers = {
    A: new ConsoleLogger('micro', { json: true, colors: false }),
    B: createAppLogger('micro', { level: 'log', format: 'json' }),
  };
  const lines = Number(process.argv[3]);
  const turns = Number(process.argv[4]);
  const results = { A: [], B: [] };
  for (const variant of orderOf(Number(process.argv[5]))) {
    const logger = loggers[variant];
    const before = process.cpuUsage();
    for (let turn = 0; turn < turns; turn++) {
      for (let i = 0; i < lines; i++) {
        logger.log({ event: 'journal.stored', messageId: '0193a8f0-3c1e-7b2a-9d4e-5f6a7b8c9d0e', accountId: 'acct', format: 'google', direction: 'inbound', duplicate: false });
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const used = process.cpuUsage(before);
    results[variant].push((used.user + used.system) / (turns * lines));
  }
  process.send(results);
} else {
  const { SMTPServer } = require('smtp-server');
  const { batchPipelinedReplies, onEachConnection } = require(path.join(ROOT, 'libs/smtp/dist/smtp-connections.js'));
  const writes = { value: 0 };
  // Socket._write and Socket._writev both end in _writeGeneric: one libuv write request (one write/writev syscall) each.
  const writeGeneric = net.Socket.prototype._writeGeneric;
  net.Socket.prototype._writeGeneric = function (...args) {
    writes.value++;
    return writeGeneric.apply(this, args);
  };
  const listen = async (batched) => {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      disableReverseLookup: true,
      size: 1024 * 1024,
      onMailFrom: (_address, _session, callback) => void Promise.resolve().then(() => callback()),
      onRcptTo: (_address, _session, callback) => void Promise.resolve().then(() => callback()),
      onData: (stream, _session, callback) => {
        stream.resume();
        stream.on('end', () => setImmediate(() => callback(null, 'Stored')));
      },
    });
    if (batched) {
      onEachConnection(server, batchPipelinedReplies);
    }
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server.server.address().port;
  };
  const ports = { A: await listen(false), B: await listen(true) };
  const client = fork(fileURLToPath(import.meta.url), ['--client'], { stdio: 'inherit' });
  const block = (port, count) => new Promise((resolve) => (client.once('message', resolve), client.send({ port, count })));
  await block(ports.A, 500);
  await block(ports.B, 500);
  const smtp = { A: [], B: [] };
  for (const variant of order) {
    const before = process.cpuUsage();
    const writesBefore = writes.value;
    const result = await block(ports[variant], perBlock);
    const used = process.cpuUsage(before);
    smtp[variant].push({ cpuUs: (used.user + used.system) / perBlock, writes: (writes.value - writesBefore) / perBlock, msgsPerSec: result.msgsPerSec, accepted: result.accepted });
  }
  client.kill();

  const logger = fork(fileURLToPath(import.meta.url), ['--logger', '8', '2000', String(blocks)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], cwd: ROOT });
  logger.stdout.resume();
  const logs = await new Promise((resolve) => logger.once('message', resolve));
  logger.kill();

  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  console.log(`SMTP server, ${perBlock} messages of ~20 KB per block, blocks ${order.join(' ')}; per message (median of ${blocks / 2} blocks each):`);
  for (const variant of ['A', 'B']) {
    const rows = smtp[variant];
    console.log(
      `  ${variant === 'A' ? 'A smtp-server as is       ' : 'B batchPipelinedReplies   '} CPU ${median(rows.map((r) => r.cpuUs)).toFixed(1)} µs, socket writes ${median(rows.map((r) => r.writes)).toFixed(2)}, ${median(rows.map((r) => r.msgsPerSec)).toFixed(0)} msgs/s; blocks ${rows.map((r) => r.cpuUs.toFixed(0)).join(' / ')} µs; accepted ${rows.map((r) => r.accepted).join('/')}`,
    );
  }
  console.log('JSON log lines, 8 per turn, stdout a pipe; CPU per line (median of blocks):');
  console.log(`  A ConsoleLogger           ${median(logs.A).toFixed(2)} µs; blocks ${logs.A.map((v) => v.toFixed(1)).join(' / ')}`);
  console.log(`  B createAppLogger         ${median(logs.B).toFixed(2)} µs; blocks ${logs.B.map((v) => v.toFixed(1)).join(' / ')}`);
  process.exit(0);
}

// Micro-benchmark of the relay (tools/bench/README.md, "The gateway's cost per message"): node tools/bench/micro/relay-prepared-copy.mjs
// A/B, same process, interleaved blocks: Transporter.sendMail({raw}) (before) vs transport.send(prepared mail) (after),
// pooled connection to an in-process smtp-server sink (its CPU is in both figures alike). CPU µs per 20 KB copy.
import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';
const require = createRequire(import.meta.url);
const nodemailer = require('nodemailer');
const { SMTPServer } = require('smtp-server');
const line = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0';
const raw = Buffer.from(`From: a@sender.example\r\nTo: b@acme.example\r\nSubject: micro\r\n\r\n${Array.from({ length: 262 }, () => line).join('\r\n')}\r\n`);
const server = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'], logger: false, onData(stream, _s, cb) { stream.on('data', () => {}); stream.on('end', () => cb()); } });
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.server.address().port, secure: false, ignoreTLS: true, pool: true, maxConnections: 1, maxMessages: 100 });
const envelope = { from: 'a@sender.example', to: ['b@acme.example'] };
const prepared = () => ({ data: {}, message: { getEnvelope: () => envelope, messageId: () => '', getHeader: () => '', createReadStream: () => new PassThrough().end(raw) } });
const after = () => new Promise((r, j) => transport.transporter.send(prepared(), (e, info) => (e ? j(e) : r(info))));
const before = () => transport.sendMail({ envelope, raw });
const N = 500, sums = { before: 0, after: 0 };
for (let i = 0; i < 50; i++) { await before(); await after(); }
for (let block = 0; block < 8; block++) {
  for (const [name, fn] of block % 2 ? [['after', after], ['before', before]] : [['before', before], ['after', after]]) {
    const t = process.cpuUsage(); for (let i = 0; i < N; i++) await fn(); const d = process.cpuUsage(t); sums[name] += d.user + d.system;
  }
}
console.log(`per copy: before ${(sums.before / 4000).toFixed(0)} µs, after ${(sums.after / 4000).toFixed(0)} µs (4,000 copies each, 8 interleaved blocks)`);
transport.close(); server.close();

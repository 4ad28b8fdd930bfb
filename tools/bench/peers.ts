import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The peers of issue 20, run beside Mailwarden in the same bench run: Debian's Postfix (on-disk queue, discard
 * transport) and rspamd (only its DKIM, SPF, DMARC and ARC modules). Each runs from a private configuration under a
 * temporary folder of the run, on its own 127.0.0.1 port, never the system's configuration or service, and is
 * stopped and its folder removed afterwards.
 */

const POSTFIX = '/usr/sbin/postfix';
const RSPAMD = '/usr/bin/rspamd';
const POLICY_RC = '/usr/sbin/policy-rc.d';

/**
 * Installs Debian's `postfix` and `rspamd` when one is missing and we are root (as tools/scripts/ensure-test-programs.cjs
 * does for rsyslog). The packages' own services must not start: when the machine has no policy-rc.d, one that denies
 * every start is in place for the duration of the install only. Returns what is missing afterwards (empty: both there).
 */
export function ensurePeersInstalled(log: (line: string) => void): string[] {
  const missing = () => [existsSync(POSTFIX) ? null : 'postfix', existsSync(RSPAMD) ? null : 'rspamd'].filter((name): name is string => name !== null);
  const wanted = missing();
  if (wanted.length === 0) {
    return [];
  }
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    log(`peers: ${wanted.join(' and ')} missing and not root (or no apt-get): install with apt-get install -y --no-install-recommends ${wanted.join(' ')}`);
    return wanted;
  }
  log(`peers: installing ${wanted.join(' and ')} from Debian's packages (their system services are not started)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const ownPolicy = !existsSync(POLICY_RC);
  if (ownPolicy) {
    writeFileSync(POLICY_RC, '#!/bin/sh\n# written by Mailwarden npm run bench while it installs its peers; removed afterwards\nexit 101\n', { mode: 0o755 });
  }
  try {
    const install = () => execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...wanted], { stdio: 'inherit', env });
    try {
      install();
    } catch {
      execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
      install();
    }
  } catch (error) {
    log(`peers: apt-get failed (${(error as Error).message.split('\n')[0]})`);
  } finally {
    if (ownPolicy) {
      rmSync(POLICY_RC, { force: true });
    }
  }
  return missing();
}

/** One /proc/<pid>/stat: parent pid and CPU ms of the process itself and of its reaped children. */
function procStat(pid: number): { ppid: number; ownMs: number; reapedMs: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = (index: number) => (Number(fields[index]) * 1000) / 100; // USER_HZ is 100 on Linux
    return { ppid: Number(fields[1]), ownMs: ticks(11) + ticks(12), reapedMs: ticks(13) + ticks(14) };
  } catch {
    return null;
  }
}

/**
 * CPU ms of a process tree: every live member's own time plus what its reaped children used (a process that exited
 * counts in its parent's cutime/cstime once reaped), so short-lived workers (Postfix's smtpd, cleanup) are counted.
 */
export function processTreeCpuMs(rootPid: number): number | null {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (Number.isInteger(pid) && pid > 0) {
      const stat = procStat(pid);
      if (stat) parents.set(pid, stat.ppid);
    }
  }
  if (!parents.has(rootPid)) {
    return null;
  }
  const members = new Set([rootPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parents) {
      if (!members.has(pid) && members.has(ppid)) {
        members.add(pid);
        grew = true;
      }
    }
  }
  let total = 0;
  for (const pid of members) {
    const stat = procStat(pid);
    total += stat ? stat.ownMs + stat.reapedMs : 0;
  }
  return total;
}

/** Peak RSS (VmHWM) summed over a process tree, MB. */
function treeRssMb(rootPid: number): number | null {
  let total = 0;
  let found = false;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = procStat(pid);
    if (pid !== rootPid && stat?.ppid !== rootPid) continue;
    try {
      const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match) {
        total += Number(match[1]) / 1024;
        found = true;
      }
    } catch {
      // gone meanwhile
    }
  }
  return found ? total : null;
}

export interface PeerProcess {
  name: string;
  /** CPU ms of the whole process tree so far. */
  cpuMs(): number | null;
  /** Peak RSS of the main process and its direct children, MB. */
  rssMb(): number | null;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Peers still running, so an error or Ctrl-C of the bench stops them too (Postfix's master is a daemon of its own). */
const runningPeers = new Set<PeerProcess>();

function tracked(peer: PeerProcess): PeerProcess {
  runningPeers.add(peer);
  const stop = peer.stop.bind(peer);
  peer.stop = async () => {
    runningPeers.delete(peer);
    await stop();
  };
  return peer;
}

/** Stops every peer still running and removes its folder. */
export async function stopAllPeers(): Promise<void> {
  await Promise.all([...runningPeers].map((peer) => peer.stop()));
}

function run(command: string, args: string[]): void {
  execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Postfix with its own config_directory, queue_directory and data_directory in a temporary folder: smtpd on
 * 127.0.0.1:`port` relaying for 127.0.0.0/8 only, every recipient to the discard transport (queued on disk with
 * Postfix's fsync before the 250, then dropped), log to a file (there is no syslog here; postlogd writes it).
 */
export async function startPostfix(port: number): Promise<PeerProcess> {
  // Postfix's daemons run as the postfix user and walk into the queue: the folder and every folder above it must be
  // traversable, so it is a temporary folder of its own rather than one inside the bench's private (0700) folder.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mw-bench-postfix-'));
  chmodSync(dir, 0o755);
  const conf = path.join(dir, 'conf');
  const queue = path.join(dir, 'queue');
  const data = path.join(dir, 'data');
  for (const folder of [conf, queue, data]) mkdirSync(folder, { mode: 0o755 });
  const postfixUid = Number(execFileSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).trim());
  chownSync(data, postfixUid, 0);
  const main = {
    compatibility_level: '3.6',
    queue_directory: queue,
    data_directory: data,
    command_directory: '/usr/sbin',
    daemon_directory: '/usr/lib/postfix/sbin',
    meta_directory: '/etc/postfix',
    shlib_directory: '/usr/lib/postfix',
    mail_owner: 'postfix',
    setgid_group: 'postdrop',
    myhostname: 'postfix.bench.test',
    mydomain: 'bench.test',
    mydestination: '',
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    mynetworks: '127.0.0.0/8',
    smtpd_relay_restrictions: 'permit_mynetworks, reject',
    smtpd_recipient_restrictions: 'permit_mynetworks, reject',
    default_transport: 'discard:bench',
    relay_transport: 'discard:bench',
    local_transport: 'discard:bench',
    virtual_transport: 'discard:bench',
    smtpd_peername_lookup: 'no',
    smtpd_client_connection_count_limit: '0',
    smtpd_client_message_rate_limit: '0',
    message_size_limit: '52428800',
    alias_maps: '',
    alias_database: '',
    local_recipient_maps: '',
    biff: 'no',
    maillog_file: path.join(dir, 'postfix.log'),
    maillog_file_prefixes: dir,
  };
  writeFileSync(path.join(conf, 'main.cf'), Object.entries(main).map(([key, value]) => `${key} = ${value}`).join('\n') + '\n');
  // Debian's master.cf without chroot (the private queue is no chroot jail) and without the services a discard run never uses.
  const master = [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
  ];
  writeFileSync(path.join(conf, 'master.cf'), master.join('\n') + '\n');
  const postfix = (command: string) => run(POSTFIX, ['-c', conf, command]);
  try {
    postfix('start');
  } catch (error) {
    const logFile = path.join(dir, 'postfix.log');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`postfix did not start (${(error as Error).message.split('\n')[0]}; log ${logFile})`);
  }
  const pidFile = path.join(queue, 'pid', 'master.pid');
  let masterPid = 0;
  const deadline = Date.now() + 30_000;
  while (!masterPid) {
    masterPid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
    if (!masterPid) {
      if (Date.now() > deadline) throw new Error('postfix master did not write its pid within 30 s');
      await sleep(100);
    }
  }
  const peer = tracked({
    name: 'postfix',
    cpuMs: () => processTreeCpuMs(masterPid),
    rssMb: () => treeRssMb(masterPid),
    async stop() {
      try {
        postfix('stop');
      } catch {
        try {
          process.kill(masterPid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      for (let waited = 0; procStat(masterPid) && waited < 15_000; waited += 100) await sleep(100);
      rmSync(dir, { recursive: true, force: true });
    },
  });
  try {
    await waitForSmtpGreeting(port, 30_000);
  } catch (error) {
    await peer.stop();
    throw error;
  }
  return peer;
}

async function waitForSmtpGreeting(port: number, timeoutMs: number): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const greeted = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.setTimeout(2000, () => socket.destroy());
      socket.once('data', (chunk) => {
        socket.end('QUIT\r\n');
        resolve(chunk.toString().startsWith('220'));
      });
      socket.once('error', () => resolve(false));
      socket.once('close', () => resolve(false));
    });
    if (greeted) return;
    if (Date.now() > deadline) throw new Error(`postfix did not greet on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/**
 * rspamd with a private configuration: the C dkim filter and the Lua spf, dmarc and arc plugins only (no rules file:
 * no regexp rules, no fuzzy, no Bayes, no Redis), one normal worker per core on 127.0.0.1:`port`, the bench DNS as
 * its only resolver. Its Hyperscan databases are compiled once into `hsCacheDir` (the first start pays for that).
 */
export async function startRspamd(parentDir: string, port: number, dnsServer: string, hsCacheDir: string): Promise<PeerProcess> {
  const dir = mkdtempSync(path.join(parentDir, 'rspamd-'));
  mkdirSync(path.join(dir, 'db'));
  mkdirSync(hsCacheDir, { recursive: true });
  const config = `options {
  pidfile = "${dir}/rspamd.pid";
  dbdir = "${dir}/db";
  hs_cache_dir = "${hsCacheDir}";
  filters = "dkim";
  explicit_modules = [];
  local_addrs = [];
  dns {
    nameserver = ["${dnsServer}"];
    timeout = 2s;
    retransmits = 2;
  }
}
logging {
  type = "file";
  filename = "${dir}/rspamd.log";
  level = "error";
}
modules {
  path = "/usr/share/rspamd/plugins";
}
worker "normal" {
  bind_socket = "127.0.0.1:${port}";
  count = ${Math.max(1, os.cpus().length)};
  task_timeout = 8s;
}
dkim { }
spf { }
dmarc { }
arc { }
`;
  const configFile = path.join(dir, 'rspamd.conf');
  writeFileSync(configFile, config);
  const asRoot = process.getuid?.() === 0 ? ['-u', 'root', '-g', 'root', '--insecure'] : [];
  const child: ChildProcess = spawn(RSPAMD, ['-c', configFile, '-f', ...asRoot], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Compiling the Hyperscan databases the first time takes a minute on a quiet machine, several on a busy one.
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`rspamd exited before it served: ${stderr}`);
    }
    const pong = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(2000) }).then((response) => response.text(), () => '');
    if (pong.trim() === 'pong') break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`rspamd did not answer /ping within 15 minutes: ${stderr}`);
    }
    await sleep(500);
  }
  return tracked({ name: 'rspamd', cpuMs: () => processTreeCpuMs(child.pid!), rssMb: () => treeRssMb(child.pid!), stop });
}

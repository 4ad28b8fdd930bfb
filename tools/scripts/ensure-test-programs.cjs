'use strict';
// pretest (and .ci/run, before npm ci: plain Node, no dependencies): the Debian programs the tests run for real.
// Installs whichever packages are missing when we are root; otherwise says what to install and fails.
//   rsyslog, rsyslog-gnutls     the SIEM export tests (imtcp, and the gtls driver for RFC 5425)
//   chromium, fonts-ipafont-gothic  the console's browser tests (playwright-core, no browser download; Japanese glyphs
//                               for the screenshots)
//   redis-server, redis-tools   the Redis Cluster tests (three redis-server nodes and `redis-cli --cluster create`)
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');

const PACKAGES = ['rsyslog', 'rsyslog-gnutls', 'chromium', 'fonts-ipafont-gothic', 'redis-server', 'redis-tools'];

const installed = (name) => {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('install ok installed');
  } catch {
    return false;
  }
};

const missing = PACKAGES.filter((name) => !installed(name));
if (missing.length === 0) {
  process.exit(0);
}
if (typeof process.getuid === 'function' && process.getuid() === 0 && existsSync('/usr/bin/apt-get')) {
  console.log(`pretest: installing ${missing.join(', ')} (Debian) for the tests that run them`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  try {
    install();
  } catch {
    execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
    install();
  }
} else {
  console.error(`pretest: missing Debian packages; install them as root: apt-get install -y ${missing.join(' ')}`);
  process.exit(1);
}

'use strict';
// pretest: the SIEM export tests run Debian's rsyslogd (imtcp, and the gtls driver for RFC 5425). Installs
// `rsyslog` and `rsyslog-gnutls` when missing and we are root; otherwise says what to install.
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');

const RSYSLOGD = '/usr/sbin/rsyslogd';
const gtlsPresent = () => {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Status}', 'rsyslog-gnutls'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('install ok installed');
  } catch {
    return false;
  }
};

if (existsSync(RSYSLOGD) && gtlsPresent()) {
  process.exit(0);
}
if (typeof process.getuid === 'function' && process.getuid() === 0 && existsSync('/usr/bin/apt-get')) {
  console.log('pretest: installing rsyslog and rsyslog-gnutls (Debian) for the SIEM export tests');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'rsyslog', 'rsyslog-gnutls'], { stdio: 'inherit', env });
  } catch {
    execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'rsyslog', 'rsyslog-gnutls'], { stdio: 'inherit', env });
  }
} else {
  console.error('pretest: rsyslog is missing; install it as root: apt-get install -y rsyslog rsyslog-gnutls');
  process.exit(1);
}

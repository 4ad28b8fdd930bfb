'use strict';
// pretest: the console's browser tests (apps/console/e2e) drive Debian's Chromium through playwright-core (no
// browser download). Installs `chromium` when missing and we are root; otherwise says what to install.
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');

const CHROMIUM = '/usr/bin/chromium';
// Japanese glyphs for the screenshots (Chromium draws boxes without a CJK font).
const JAPANESE_FONT = '/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf';

if (existsSync(CHROMIUM) && existsSync(JAPANESE_FONT)) {
  process.exit(0);
}
if (typeof process.getuid === 'function' && process.getuid() === 0 && existsSync('/usr/bin/apt-get')) {
  console.log('pretest: installing chromium and a Japanese font (Debian) for the console browser tests');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium', 'fonts-ipafont-gothic'], { stdio: 'inherit', env });
  } catch {
    execFileSync('apt-get', ['update'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium', 'fonts-ipafont-gothic'], { stdio: 'inherit', env });
  }
} else {
  console.error('pretest: chromium is missing; install it as root: apt-get install -y chromium fonts-ipafont-gothic');
  process.exit(1);
}

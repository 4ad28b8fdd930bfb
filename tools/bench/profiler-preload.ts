import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

// Preloaded (node -r) into the app processes of a `npm run bench -- --cpu-prof` run. `node --cpu-prof` would also
// profile the start (module loading, TLS key generation), which dominates short runs; instead the bench sends
// SIGWINCH once the app is ready (a signal Nest's shutdown hooks do not listen to), and the profile is written on
// SIGTERM, before Nest's own shutdown listener (registered after this one) ends the process.
const dir = process.env.MW_BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  let profiling = false;
  process.once('SIGWINCH', () => {
    profiling = true;
    session.post('Profiler.enable', () => session.post('Profiler.start'));
  });
  process.once('SIGTERM', () => {
    if (!profiling) {
      return;
    }
    session.post('Profiler.stop', (error, result) => {
      if (!error) {
        writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
      }
    });
  });
}

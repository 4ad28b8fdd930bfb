// Preloaded (node -r) into the app processes of a `--cpu-prof` run. Nest's shutdown hook ends with
// process.kill(pid, SIGTERM), a death by signal after which node writes no profile; exiting normally on the
// first SIGTERM (this listener is registered before Nest's) writes it.
process.once('SIGTERM', () => process.exit(0));

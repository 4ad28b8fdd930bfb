import { ConfigError } from '@mailwarden/config';
import { runCli } from './cli';

/** `npm run mw -- <command>`: the operator CLI (tools/cli/cli.ts). */
runCli(process.argv.slice(2), { out: (line) => console.log(line), err: (line) => console.error(line) }).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigError ? `mailwarden: ${error.message}` : error);
    process.exit(1);
  },
);

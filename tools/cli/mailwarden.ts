import { ConfigError } from '@mailwarden/config';
import { runCli } from './cli';

/** `npm run mw -- <command>`: the operator CLI (tools/cli/cli.ts). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

runCli(process.argv.slice(2), { out: (line) => console.log(line), err: (line) => console.error(line), readStdin }).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigError ? `mailwarden: ${error.message}` : error);
    process.exit(1);
  },
);

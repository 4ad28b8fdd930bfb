import path from 'node:path';
import { ESLint } from 'eslint';

/** Proves the lint step enforces STYLE.md §2: a boundary break is an error, so `npm test` fails on it. */
describe('module boundaries', () => {
  const root = path.resolve(__dirname, '..', '..');
  const eslint = new ESLint({ cwd: root });

  async function errorsFor(file: string, code: string): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
    return result!.messages.filter((message) => message.severity === 2).map((message) => `${message.ruleId}: ${message.message}`);
  }

  it('should refuse a util lib that imports the data layer', async () => {
    const errors = await errorsFor('libs/config/src/probe.ts', "import { PrismaService } from '@mailwarden/db';\nexport const probe = PrismaService;\n");
    expect(errors.join('\n')).toMatch(/enforce-module-boundaries/);
  });

  it('should refuse libs/testing outside test files', async () => {
    const errors = await errorsFor('libs/db/src/probe.ts', "import { freePort } from '@mailwarden/testing';\nexport const probe = freePort;\n");
    expect(errors.join('\n')).toMatch(/testing is imported only from/);
  });

  it('should refuse the generated Prisma client outside libs/db', async () => {
    const errors = await errorsFor('libs/config/src/probe.ts', "import { PrismaClient } from '../../db/src/generated/prisma/client';\nexport const probe = PrismaClient;\n");
    expect(errors.length).toBeGreaterThan(0);
  });

  it('should accept a data lib that imports a util lib', async () => {
    const errors = await errorsFor('libs/db/src/probe.ts', "import { loadConfig } from '@mailwarden/config';\nexport const probe = loadConfig;\n");
    expect(errors).toEqual([]);
  });
});

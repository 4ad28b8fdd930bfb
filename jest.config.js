'use strict';
// `jest` runs both projects: `unit` (*.spec.ts, no I/O) and `integration` (*.int-spec.ts, real PostgreSQL and Redis).
// Select one with `jest --selectProjects unit` (or integration); narrow to a lib or app by path: `jest libs/db`.
const preset = require('./jest.preset');

module.exports = {
  // On a 2-core machine Jest would run every suite in its own process (one worker means in band), and that process
  // keeps what each suite leaves behind (module registries, transforms): the clean-clone CI of 2026-12-05 ran out of
  // its 4 GB heap after 159 of 175 suites. With a limit Jest runs the suites in a child worker (still one at a time:
  // maxWorkers stays 1 on 2 cores) and replaces it between test files once it holds more than this.
  workerIdleMemoryLimit: '1536MB',
  projects: [
    { ...preset, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools}/**/*.spec.ts'] },
    {
      ...preset,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,libs,tools}/**/*.int-spec.ts'],
      globalSetup: '<rootDir>/libs/testing/src/global-setup.ts',
      globalTeardown: '<rootDir>/libs/testing/src/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/libs/testing/src/jest-integration.setup.ts'],
    },
  ],
};

'use strict';
// `jest` runs both projects: `unit` (*.spec.ts, no I/O) and `integration` (*.int-spec.ts, real PostgreSQL and Redis).
// Select one with `jest --selectProjects unit` (or integration); narrow to a lib or app by path: `jest libs/db`.
const preset = require('./jest.preset');

module.exports = {
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

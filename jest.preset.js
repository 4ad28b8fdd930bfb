'use strict';
// Shared Jest settings: TypeScript through SWC (decorator metadata on, for NestJS), `@mailwarden/*` mapped to the libs.
const fs = require('node:fs');
const path = require('node:path');

const swcrc = JSON.parse(fs.readFileSync(path.join(__dirname, '.swcrc'), 'utf8'));
delete swcrc.$schema;

// Jest's global setup and teardown load modules outside Jest's registry (no moduleNameMapper): there `@mailwarden/*`
// resolves through the workspace packages (node_modules/@mailwarden → libs/*), with their source condition
// (src/index.ts, compiled by the SWC transform) rather than their built dist/, so tests never need a build first.
require('node:module').registerHooks({
  resolve: (specifier, context, next) =>
    next(specifier, specifier.startsWith('@mailwarden/') ? { ...context, conditions: [...context.conditions, '@mailwarden/source'] } : context),
});

const libs = fs.readdirSync(path.join(__dirname, 'libs'));
const moduleNameMapper = Object.fromEntries(
  libs.map((lib) => [`^@mailwarden/${lib}$`, `<rootDir>/libs/${lib}/src/index.ts`]),
);

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', { ...swcrc, swcrc: false }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

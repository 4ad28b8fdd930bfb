import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';

// compression ships no types, and @types/compression would bring @types/express into the build, which changes the
// typings NestJS's express platform gives the rest of the app: the one call used is typed here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const compression = require('compression') as () => (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void;

/** Where the web console is served (issue 18): `http://<host>:<ADMIN_API_PORT>/console/`. */
export const CONSOLE_PATH = '/console';

/** The built console (`vite build` writes it to dist/console): the first folder up from here holding tools/runtime. */
export function consoleBuildDirectory(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'tools', 'runtime', 'app-command.cjs'))) {
      return path.join(dir, 'dist', 'console');
    }
    if (path.dirname(dir) === dir) {
      return path.join(from, 'console');
    }
  }
}

/**
 * The console's own Content-Security-Policy: scripts, styles, fonts and API calls from this origin only, no inline
 * script, no framing, no plugins, forms posting only here. helmet's default adds `upgrade-insecure-requests`, which
 * would send a browser on plain http (a local run) to https for every asset: left out, HSTS covers real deployments.
 */
const consoleHelmet = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
});

/**
 * Serves the single-page console from `directory` under /console: hashed assets (`/console/assets/*`) cached for a
 * year as immutable, `index.html` revalidated on every load (`no-cache`) so a new build is picked up at once, and
 * every other /console path answered with index.html (client-side routes, deep links). Without a build, /console
 * answers 404 naming the command that builds it. Answers are compressed (brotli or gzip, as the browser accepts) (the
 * `compression` middleware, only under /console: API answers are left as they were).
 */
export function serveConsole(app: NestExpressApplication, directory = consoleBuildDirectory()): void {
  const indexFile = path.join(directory, 'index.html');
  app.use(CONSOLE_PATH, consoleHelmet);
  app.use(CONSOLE_PATH, compression());
  app.use(CONSOLE_PATH, (request: { method: string; originalUrl: string; path: string }, response: ServerResponse & { redirect(status: number, url: string): void }, next: () => void) => {
    if (request.originalUrl === CONSOLE_PATH) {
      response.redirect(301, `${CONSOLE_PATH}/`);
      return;
    }
    if (!existsSync(indexFile)) {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      response.end('The console is not built: run `npm run build` (npm start does).\n');
      return;
    }
    next();
  });
  app.useStaticAssets(directory, {
    prefix: CONSOLE_PATH,
    index: false,
    fallthrough: true,
    setHeaders: (response: ServerResponse, file: string) => {
      const immutable = file.startsWith(path.join(directory, 'assets') + path.sep);
      response.setHeader('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.use(CONSOLE_PATH, (request: { method: string; path: string }, response: ServerResponse & { sendFile(file: string, options: object): void }, next: () => void) => {
    // A missing hashed asset is a 404, not the page: a stale index.html must not get HTML as a script.
    if ((request.method !== 'GET' && request.method !== 'HEAD') || request.path.startsWith('/assets/')) {
      next();
      return;
    }
    response.sendFile(indexFile, { headers: { 'Cache-Control': 'no-cache', 'Content-Type': 'text/html; charset=utf-8' } });
  });
}

import { gzipSync } from 'node:zlib';
import type { Account } from '@mailwarden/db';
import {
  buildMicrosoftJournalReport,
  buildOriginal,
  launchChromium,
  newConsoleContext,
  RawSmtp,
  saveScreenshot,
  sendMessage,
  seriousAxeViolations,
  waitFor,
} from '@mailwarden/testing';
import type { Browser } from 'playwright-core';
import { pageChecker, signIn } from './console-pages';
import { createUser, journalAddressOf, journalTenant, startConsoleStack, type ConsoleStack, type ConsoleUser } from './console-stack';

/**
 * The web console in Debian's Chromium (headless, playwright-core) against the real admin API (serving the console),
 * scanner and journal ingest processes, PostgreSQL and Redis: the journeys of issue 18. Every page visited is
 * checked with axe-core (no serious or critical violation) and saved as a screenshot in English and Japanese under
 * tmp/console-screenshots/<language>/.
 */
describe('web console in Chromium', () => {
  let stack: ConsoleStack;
  let browser: Browser;
  let partnerId: string;
  let tenantA: Account;
  let tenantB: Account;
  const users: Record<string, ConsoleUser> = {};
  const screenshots: string[] = [];

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startConsoleStack(), launchChromium()]);
    partnerId = (await stack.db.prisma.partner.create({ data: { name: 'Console MSP' } })).id;
    tenantA = (await journalTenant(stack, partnerId, 'Alpha Trading', 'alpha.example')).account;
    tenantB = (await journalTenant(stack, partnerId, 'Bravo Logistics', 'bravo.example')).account;
    users.partner = createUser(stack, { partnerId }, 'msp-admin@console.test');
    users.adminA = createUser(stack, { accountId: tenantA.id, role: 'TENANT_ADMIN' }, 'admin@alpha.example');
    users.readerA = createUser(stack, { accountId: tenantA.id, role: 'READ_ONLY' }, 'auditor@alpha.example');
    users.adminB = createUser(stack, { accountId: tenantB.id, role: 'TENANT_ADMIN' }, 'admin@bravo.example');
  }, 120_000);

  afterAll(async () => {
    console.log(`console screenshots:\n${screenshots.join('\n')}`);
    await browser?.close();
    await stack?.stop();
  });

  const checkPage = pageChecker(screenshots);

  /** A Microsoft 365 journal report of a spoof of `domain`: header From the tenant's CEO, envelope from elsewhere. */
  async function journalSpoof(account: Account, domain: string, messageId: string, subject: string): Promise<string> {
    const original = buildOriginal({ from: `ceo@${domain}`, to: [`finance@${domain}`], subject, messageId });
    const report = buildMicrosoftJournalReport({ journalAddress: journalAddressOf(account), sender: 'bounce@attacker.example', subject, messageId, to: [`finance@${domain}`], original });
    const reply = await sendMessage(stack.ports.journalSmtp, journalAddressOf(account), report);
    expect(reply).toMatch(/^250/);
    const message = await waitFor(
      () => stack.db.prisma.message.findFirst({ where: { accountId: account.id, messageIdHeader: messageId, scanStatus: 'SCANNED' } }),
      `scan of ${messageId}`,
    );
    return message.id;
  }

  it('serves the console under /console/ with its CSP and cache headers, and its sign-in page passes axe in both languages', async () => {
    const index = await fetch(`${stack.baseUrl}/console/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    const html = await index.text();
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const script = await fetch(`${stack.baseUrl}${asset}`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(script.headers.get('content-encoding')).toBe('gzip');
    // A deep link is the page; a missing hashed asset is not.
    expect((await fetch(`${stack.baseUrl}/console/t/x/messages`)).status).toBe(200);
    expect((await fetch(`${stack.baseUrl}/console/assets/missing-0000.js`)).status).toBe(404);

    const { context, page, problems } = await newConsoleContext(browser, stack.baseUrl);
    const scripts: Promise<Buffer>[] = [];
    const encodings: Promise<{ size: number; encoding: string | undefined }>[] = [];
    page.on('response', (response) => {
      if (/\/console\/assets\/.+\.js$/.test(response.url())) {
        scripts.push(response.body());
        const encoding = response.headers()['content-encoding'];
        encodings.push(response.body().then((body) => ({ size: body.length, encoding })));
      }
    });
    await page.goto('/console/');
    await page.waitForURL(/\/console\/sign-in$/);
    await page.getByRole('heading', { name: 'Sign in to Mailwarden' }).waitFor();
    // The first load: every script the browser fetched to show the sign-in page, gzipped (level 9) as a proxy would send it.
    const bodies = await Promise.all(scripts);
    const gzipped = bodies.reduce((total, body) => total + gzipSync(body, { level: 9 }).length, 0);
    console.log(`console first load: ${bodies.length} scripts, ${bodies.reduce((total, body) => total + body.length, 0)} bytes, ${gzipped} bytes gzipped`);
    expect(gzipped).toBeLessThan(500 * 1024);
    // Sent compressed: Chromium asks for brotli too (the middleware leaves answers under 1 KB as they are).
    expect((await Promise.all(encodings)).filter((script) => script.size > 1024 && script.encoding !== 'br' && script.encoding !== 'gzip')).toEqual([]);
    expect(await seriousAxeViolations(page)).toEqual([]);
    screenshots.push(await saveScreenshot(page, 'en', 'sign-in'));
    await page.evaluate(() => localStorage.setItem('mw.language', 'ja'));
    await page.reload();
    await page.getByRole('heading', { name: 'Mailwarden にサインイン' }).waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    screenshots.push(await saveScreenshot(page, 'ja', 'sign-in'));
    expect(problems).toEqual([]);
    await context.close();
  });

  it('journey 1: signs in with a password (a wrong one refused), signs out, then signs in through OpenID Connect', async () => {
    const { context, page, problems } = await newConsoleContext(browser, stack.baseUrl);
    await page.goto('/console/sign-in');
    await page.getByLabel('Email').fill(users.adminA!.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').getByText('Wrong email or password.').waitFor();
    await signIn(page, users.adminA!);
    await page.waitForURL(new RegExp(`/console/t/${tenantA.id}/dashboard$`));
    await page.getByTestId('current-tenant').getByText('Alpha Trading').waitFor();
    const session = (await context.cookies()).find((cookie) => cookie.name === 'mw_session');
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict' });
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(/\/sign-in$/);
    // The old session no longer opens anything.
    await page.goto(`/console/t/${tenantA.id}/dashboard`);
    await page.waitForURL(/\/sign-in$/);

    // OpenID Connect against the fake Microsoft identity platform: the same person, known by their username.
    stack.microsoft.identity.signInAs = stack.microsoft.identity.newUser(users.adminA!.email);
    await page.getByRole('link', { name: 'Sign in with Microsoft' }).click();
    await page.waitForURL(new RegExp(`/console/t/${tenantA.id}/dashboard$`)).catch(async (error: Error) => {
      throw new Error(`${error.message}\nat ${page.url()}: ${(await page.content()).slice(0, 2000)}\nrefusals: ${JSON.stringify(stack.microsoft.identity.refusals)}`);
    });
    await page.getByTestId('current-tenant').getByText('Alpha Trading').waitFor();
    const authorize = stack.microsoft.identity.authorizeRequests.at(-1)!;
    expect(authorize.get('code_challenge_method')).toBe('S256');
    // Signed in by OIDC, the console can change things: the CSRF token came from /v1/auth/me.
    const changed = await page.evaluate(async (accountId) => {
      const me = (await (await fetch('/v1/auth/me')).json()) as { csrfToken: string; email: string };
      const response = await fetch(`/v1/accounts/${accountId}/domains`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrfToken },
        body: JSON.stringify({ name: 'oidc-added.example' }),
      });
      return { email: me.email, status: response.status };
    }, tenantA.id);
    expect(changed).toEqual({ email: users.adminA!.email, status: 201 });
    // A person the identity platform knows but no admin created is refused.
    stack.microsoft.identity.signInAs = stack.microsoft.identity.newUser('stranger@alpha.example');
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(/\/sign-in$/);
    const refused = await page.request.get(`/v1/auth/oidc/microsoft/start?returnTo=${encodeURIComponent('/console/')}`);
    expect(refused.status()).toBe(403);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('journey 2: a spoofed journal copy shows in the dashboard and in the history with its evidence in plain words', async () => {
    const messageId = '<spoof-1@alpha.example>';
    const id = await journalSpoof(tenantA, 'alpha.example', messageId, 'Urgent wire transfer');
    const { context, page, problems } = await newConsoleContext(browser, stack.baseUrl);
    await signIn(page, users.adminA!);
    await page.getByTestId('monitor-only-notice').waitFor();
    await page.getByTestId('failed-checks').getByText('Header anomaly').waitFor();
    await page.getByTestId('tile-total').getByText('1').waitFor();
    await checkPage(page, 'dashboard');

    await page.getByRole('link', { name: 'Message history', exact: true }).click();
    await page.getByRole('link', { name: 'Urgent wire transfer' }).waitFor();
    await checkPage(page, 'messages');
    await page.getByRole('link', { name: 'Urgent wire transfer' }).click();
    await page.waitForURL(new RegExp(`/messages/${id}$`));
    await page.getByRole('tab', { name: 'Checks and evidence' }).click();
    const evidence = page.getByTestId('evidence');
    await evidence.getByText('Header anomaly failed.', { exact: false }).waitFor();
    await evidence.getByText('The header From (ceo@alpha.example) is not the envelope sender (bounce@attacker.example).', { exact: false }).waitFor();
    await evidence.getByText('Would have:').first().waitFor();
    await checkPage(page, 'message-evidence');
    await evidence.getByText('Raw evidence').first().click();
    await evidence.locator('pre').first().getByText('"header-anomaly"', { exact: false }).waitFor();
    await page.getByRole('tab', { name: 'Recipients and timeline' }).click();
    await page.getByTestId('recipient-timeline').getByText('Accepted').first().waitFor();
    await checkPage(page, 'message-timeline');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('journey 3: adding the sender to the block list makes the next copy decided differently', async () => {
    const { context, page, problems } = await newConsoleContext(browser, stack.baseUrl);
    await signIn(page, users.adminA!);
    await page.goto(`/console/t/${tenantA.id}/policies`);
    const form = page.getByTestId('email-security-form');
    await form.waitFor();
    // Sender checks in Sophos's order, DMARC offering to follow the sender's policy (its default).
    const checks = await form.locator('tbody th').allTextContents();
    expect(checks).toEqual(['DMARC', 'SPF', 'DKIM', 'Header anomaly']);
    await form.getByLabel('Action when DMARC fails').locator('option', { hasText: "Follow the sender's policy (default)" }).waitFor({ state: 'attached' });
    await checkPage(page, 'policies');
    await form.getByLabel('Block list').fill('attacker.example');
    await form.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Policy saved', { exact: false }).waitFor();
    const before = await stack.db.prisma.verdict.findMany({ where: { message: { accountId: tenantA.id } } });
    expect(before.map((verdict) => verdict.decidedAction)).toEqual(['TAG_SUBJECT']);
    // Scanners reuse an account's policies for up to 5 s (ScanContextCache).
    await new Promise((resolve) => setTimeout(resolve, 5_500));
    await journalSpoof(tenantA, 'alpha.example', '<spoof-2@alpha.example>', 'Second wire transfer');
    await page.goto(`/console/t/${tenantA.id}/messages?action=REJECT`);
    await page.getByRole('link', { name: 'Second wire transfer' }).waitFor();
    expect(await page.getByRole('link', { name: 'Urgent wire transfer' }).count()).toBe(0);
    await page.getByTestId('messages-table').getByText('Reject').waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('journey 4: releasing a quarantined gateway message delivers it to the downstream', async () => {
    const gateway = await stack.factories.newAccount({ name: 'Gamma Gateway', monitorOnly: false, partnerId });
    const domain = await stack.factories.newDomain(gateway, { name: 'gamma.example', mode: 'GATEWAY', verified: true, downstreamHost: '127.0.0.1', downstreamPort: stack.sink.port, downstreamVerifyCert: false });
    await stack.factories.newAccountPolicy(gateway, 'EMAIL_SECURITY', { blockList: { domains: ['bad.example'], addresses: [] }, blockAction: 'QUARANTINE' });
    expect(domain.mode).toBe('GATEWAY');
    const adminG = createUser(stack, { accountId: gateway.id, role: 'TENANT_ADMIN' }, 'admin@gamma.example');
    const { client: smtp } = await RawSmtp.open(stack.ports.gatewaySmtp);
    try {
      for (const step of ['EHLO client.bad.example', 'MAIL FROM:<offers@bad.example>', 'RCPT TO:<bob@gamma.example>', 'DATA']) {
        expect(await smtp.command(step)).toMatch(/^(250|354)/);
      }
      smtp.write(Buffer.from('From: offers@bad.example\r\nTo: bob@gamma.example\r\nSubject: Held offer\r\nMessage-ID: <held-1@bad.example>\r\n\r\nbuy now\r\n'));
      expect(await smtp.command('.')).toMatch(/^250/);
    } finally {
      smtp.close();
    }
    await waitFor(() => stack.db.prisma.quarantineItem.findFirst({ where: { accountId: gateway.id, status: 'HELD' } }), 'the held item');
    expect(stack.sink.to('bob@gamma.example')).toEqual([]);

    const { context, page, problems } = await newConsoleContext(browser, stack.baseUrl);
    await signIn(page, adminG);
    await page.goto(`/console/t/${gateway.id}/quarantine`);
    await page.getByTestId('quarantine-table').getByText('Held offer').waitFor();
    await checkPage(page, 'quarantine');
    await page.getByRole('button', { name: 'Release: Held offer', exact: true }).click();
    await page.getByRole('status').getByText('Released', { exact: false }).waitFor();
    const delivered = await waitFor(async () => stack.sink.to('bob@gamma.example')[0], 'delivery to the sink');
    expect(delivered.raw.toString()).toContain('Subject: Held offer');

    // The domain's quick test: a test message through the scanner's SMTP front to the downstream, followed to the end.
    await page.goto(`/console/t/${gateway.id}/domains`);
    await page.getByRole('button', { name: 'Send a test message to gamma.example', exact: true }).click();
    await page.getByTestId('quick-test-gamma.example').getByText('The test message reached postmaster@gamma.example.').waitFor({ timeout: 60_000 });
    await page.getByTestId('quick-test-gamma.example').getByText('Reached: Delivered', { exact: false }).waitFor();
    expect(stack.sink.to('postmaster@gamma.example')).toHaveLength(1);
    await checkPage(page, 'domains-quick-test');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('journey 5: runs the monitor-only to gateway migration to the end', async () => {
    const { account, domain } = await journalTenant(stack, partnerId, 'Mike Manufacturing', 'mike.example');
    const adminM = createUser(stack, { accountId: account.id, role: 'TENANT_ADMIN' }, 'admin@mike.example');
    const { context, page, problems } = await newConsoleContext(browser, stack.baseUrl);
    await signIn(page, adminM);
    await page.goto(`/console/t/${account.id}/mode`);
    await page.getByTestId('account-mode').getByText('Monitor-only').waitFor();
    const plan = page.getByTestId('plan-form');
    await plan.getByLabel('Gateway (MX)').check();
    await plan.getByLabel('mike.example').check();
    await plan.getByLabel('MX host of the gateway').fill('mx.mailwarden.console.test');
    await plan.getByRole('button', { name: 'Plan the migration' }).click();
    const migration = page.getByTestId('migration');
    await migration.getByText('Accept mail on both paths').waitFor();
    await checkPage(page, 'mode-planned');
    await migration.getByRole('button', { name: 'Run next step' }).click();
    await migration.getByTestId('step-complete-gateway-setup').getByText('Waiting for you').first().waitFor();
    // The admin's part: the downstream route (Domains page) and the MX record (DNS).
    await page.goto(`/console/t/${account.id}/domains`);
    const card = page.getByTestId('domain-mike.example');
    await card.getByLabel('Downstream host').fill('mail.mike.example');
    await card.getByRole('button', { name: 'Save downstream' }).click();
    await card.getByText('mail.mike.example:25').waitFor();
    await checkPage(page, 'domains');
    stack.dns.zone['mike.example'] = { MX: [{ exchange: 'mx.mailwarden.console.test', priority: 10 }] };
    await page.goto(`/console/t/${account.id}/mode`);
    await migration.getByText('The next step', { exact: false }).waitFor({ state: 'attached' }).catch(() => undefined);
    await migration.getByRole('button', { name: 'Check now' }).click();
    // Monitor-only off, gateway mode, journal scope closed; the journal rules' quiet period is still running.
    await migration.getByTestId('step-remove-journal-rules').getByText('Waiting for you').first().waitFor();
    await migration.getByTestId('step-turn-monitor-only-off').getByText('Done').waitFor();
    await checkPage(page, 'mode-waiting');
    await migration.getByLabel("I accept the step's risk", { exact: false }).check();
    await migration.getByRole('button', { name: 'Check now' }).click();
    await page.getByTestId('migration-status').getByText('Completed').waitFor();
    await page.getByTestId('account-mode').getByText('Enforcing').waitFor();
    const after = await stack.db.prisma.domain.findUniqueOrThrow({ where: { id: domain.id } });
    expect({ mode: after.mode, transitionMode: after.transitionMode }).toEqual({ mode: 'GATEWAY', transitionMode: null });
    expect((await stack.db.prisma.account.findUniqueOrThrow({ where: { id: account.id } })).monitorOnly).toBe(false);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('journey 6: a read-only user finds no change buttons, and the API refuses a change sent anyway', async () => {
    const { context, page, problems } = await newConsoleContext(browser, stack.baseUrl);
    await signIn(page, users.readerA!);
    await page.goto(`/console/t/${tenantA.id}/domains`);
    await page.getByTestId('domain-alpha.example').waitFor();
    await page.goto(`/console/t/${tenantA.id}/journal`);
    await page.getByTestId('journal-address').getByText(journalAddressOf(tenantA)).waitFor();
    await checkPage(page, 'journal');
    for (const [path, ready] of [
      ['domains', 'domain-alpha.example'],
      ['policies', 'email-security-form'],
      ['quarantine', 'quarantine-table'],
      ['mode', 'account-mode'],
    ] as const) {
      await page.goto(`/console/t/${tenantA.id}/${path}`);
      await page.getByTestId(ready).waitFor();
      // The only buttons left are the language, sign-out, tab and paging controls.
      const buttons = (await page.locator('main button:not([role=tab]):not(:disabled)').allTextContents()).filter((text) => !/page/i.test(text));
      expect({ path, buttons }).toEqual({ path, buttons: [] });
      // Form fields that would change something are disabled (the level picker of Policies only chooses what to view).
      expect(await page.locator('main form select:not(:disabled), main form textarea:not(:disabled), main form input:not(:disabled)').count()).toBe(0);
    }
    const refused = await page.evaluate(async (accountId) => {
      const me = (await (await fetch('/v1/auth/me')).json()) as { csrfToken: string };
      const response = await fetch(`/v1/accounts/${accountId}/domains`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrfToken },
        body: JSON.stringify({ name: 'sneaky.example' }),
      });
      return { status: response.status, body: await response.json() };
    }, tenantA.id);
    expect(refused.status).toBe(403);
    expect(await stack.db.prisma.domain.count({ where: { name: 'sneaky.example' } })).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('journey 7: a partner enters two tenants, and a tenant admin never sees the other tenant', async () => {
    const { context, page, problems } = await newConsoleContext(browser, stack.baseUrl);
    await signIn(page, users.partner!);
    await page.waitForURL(/\/console\/partner$/);
    const tenants = page.getByTestId('tenants');
    await tenants.getByText('Alpha Trading').waitFor();
    await tenants.getByText('Bravo Logistics').waitFor();
    await checkPage(page, 'partner');
    await page.getByRole('link', { name: 'Enter Alpha Trading' }).click();
    await page.getByTestId('current-tenant').getByText('Alpha Trading').waitFor();
    await page.getByRole('link', { name: 'Tenants', exact: true }).click();
    await page.getByRole('link', { name: 'Enter Bravo Logistics' }).click();
    await page.getByTestId('current-tenant').getByText('Bravo Logistics').waitFor();
    await page.getByRole('link', { name: 'Message history', exact: true }).click();
    await page.getByText('No message matches.').waitFor();
    expect(await page.getByText('Urgent wire transfer').count()).toBe(0);
    await context.close();

    const other = await newConsoleContext(browser, stack.baseUrl);
    await signIn(other.page, users.adminB!);
    await other.page.waitForURL(new RegExp(`/t/${tenantB.id}/dashboard$`));
    // Tenant A's pages by URL: the API answers 404, nothing of A shows.
    await other.page.goto(`/console/t/${tenantA.id}/messages`);
    await other.page.getByRole('alert').first().waitFor();
    expect(await other.page.getByText('Urgent wire transfer').count()).toBe(0);
    expect(await other.page.getByTestId('current-tenant').count()).toBe(0);
    const answers = await other.page.evaluate(async (accountId) => {
      const statuses: number[] = [];
      for (const path of ['', '/messages', '/quarantine', '/domains', '/statistics']) {
        statuses.push((await fetch(`/v1/accounts/${accountId}${path}`)).status);
      }
      return statuses;
    }, tenantA.id);
    expect(answers).toEqual([404, 404, 404, 404, 404]);
    await other.page.goto('/console/partner');
    expect(await other.page.getByText('Alpha Trading').count()).toBe(0);
    expect([...problems, ...other.problems]).toEqual([]);
    await other.context.close();
  });
});

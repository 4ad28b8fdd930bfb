import type { Account } from '@mailwarden/db';
import { totpCode } from '@mailwarden/auth';
import { launchChromium, newConsoleContext, waitFor } from '@mailwarden/testing';
import type { Browser, Page } from 'playwright-core';
import { checkPage as checkPageIn, signIn } from './console-pages';
import { createUser, startConsoleStack, type ConsoleStack, type ConsoleUser } from './console-stack';

/**
 * The console's administration pages in Debian's Chromium against the real admin API and scanner (its Microsoft 365
 * workers talking to the fake Graph), PostgreSQL and Redis: API keys, the audit log, users with TOTP, and the
 * clawback of a delivered message. Every page visited passes axe and is saved in English and Japanese.
 */
describe('web console administration in Chromium', () => {
  let stack: ConsoleStack;
  let browser: Browser;
  let account: Account;
  let admin: ConsoleUser;
  let reader: ConsoleUser;
  const screenshots: string[] = [];
  const checkPage = (page: Page, name: string) => checkPageIn(page, name, screenshots);

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startConsoleStack({ journal: false }), launchChromium()]);
    account = await stack.factories.newAccount({ name: 'Delta Freight', monitorOnly: true, partnerId: null });
    await stack.factories.newDomain(account, { name: 'delta.example', mode: 'JOURNAL', verified: true });
    admin = createUser(stack, { accountId: account.id, role: 'TENANT_ADMIN' }, 'admin@delta.example');
    reader = createUser(stack, { accountId: account.id, role: 'READ_ONLY' }, 'auditor@delta.example');
  }, 180_000);

  afterAll(async () => {
    console.log(`console admin screenshots:\n${screenshots.join('\n')}`);
    await browser?.close();
    await stack?.stop();
  });

  const withKey = (key: string, path: string, init: RequestInit = {}) =>
    fetch(`${stack.baseUrl}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });

  it('creates an API key shown once, uses it with the API, finds its creation in the audit log with the person, and revokes it', async () => {
    const { context, page, problems } = await newConsoleContext(browser, stack.baseUrl);
    await signIn(page, admin);
    await page.getByRole('link', { name: 'API keys', exact: true }).click();
    const form = page.getByTestId('api-key-form');
    await form.getByLabel('Name').fill('SIEM export');
    await form.getByLabel('Role').selectOption('READ_ONLY');
    await form.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('created-key-secret').textContent())!;
    expect(secret).toMatch(/^mw_[a-z0-9]+_/);
    await page.getByTestId('api-keys-table').getByText('SIEM export').waitFor();
    await checkPage(page, 'api-keys');

    // The key works with the API, with its role: it reads, and it may not change anything.
    const read = await withKey(secret, `/v1/accounts/${account.id}/domains`);
    expect(read.status).toBe(200);
    expect(((await read.json()) as { items: { name: string }[] }).items.map((domain) => domain.name)).toEqual(['delta.example']);
    const write = await withKey(secret, `/v1/accounts/${account.id}/domains`, { method: 'POST', body: JSON.stringify({ name: 'keyed.example' }) });
    expect(((await write.json()) as { code: string }).code).toBe('READ_ONLY_KEY');
    await waitFor(() => stack.db.prisma.apiKey.findFirst({ where: { accountId: account.id, name: 'SIEM export', lastUsedAt: { not: null } } }), 'the key use recorded');
    // Shown once: after a reload the list has the key with its last use, never its secret.
    await page.reload();
    const row = page.getByTestId('api-keys-table').locator('tr', { hasText: 'SIEM export' });
    await row.getByText('Read-only').waitFor();
    expect(await row.getByText('Never').count()).toBe(0);
    expect(await page.getByText(secret).count()).toBe(0);

    await page.getByRole('link', { name: 'Audit log', exact: true }).click();
    const filters = page.getByTestId('audit-filters');
    await filters.getByLabel('Actor').fill('ADMIN@delta.example');
    await filters.getByLabel('Action').fill('api_key.created');
    await filters.getByRole('button', { name: 'Filter', exact: true }).click();
    const events = page.getByTestId('audit-table');
    await events.getByText('Person: admin@delta.example').waitFor();
    expect(await events.locator('tbody tr').count()).toBe(1);
    await events.getByText('Before and after', { exact: false }).click();
    await events.locator('pre', { hasText: 'SIEM export' }).waitFor();
    await checkPage(page, 'audit');

    await page.getByRole('link', { name: 'API keys', exact: true }).click();
    await page.getByRole('button', { name: 'Revoke key SIEM export', exact: true }).click();
    await page.getByRole('button', { name: 'Revoke key SIEM export now', exact: false }).click();
    await page.getByRole('status').getByText('Key “SIEM export” revoked.').waitFor();
    expect((await withKey(secret, `/v1/accounts/${account.id}/domains`)).status).toBe(401);
    // The revocation is audited with the same person.
    const revoked = await stack.db.prisma.auditEvent.findFirstOrThrow({ where: { accountId: account.id, action: 'api_key.revoked' } });
    expect(revoked.actor).toBe('user:admin@delta.example');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('creates a user who enrols TOTP with the QR code and then signs in with a code', async () => {
    const { context, page, problems } = await newConsoleContext(browser, stack.baseUrl);
    await signIn(page, admin);
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    const form = page.getByTestId('user-form');
    const password = `pw-${Math.random().toString(36).slice(2)}-Ops!7`;
    await form.getByLabel('Email').fill('ops@delta.example');
    await form.getByLabel('Name').fill('Olga Ops');
    await form.getByLabel('Role').selectOption('TENANT_ADMIN');
    await form.getByLabel('Initial password', { exact: false }).fill(password);
    await form.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('status').getByText('ops@delta.example can now sign in.').waitFor();
    const card = page.getByTestId('user-ops@delta.example');
    await card.getByLabel('Role of ops@delta.example').selectOption('READ_ONLY');
    await page.getByRole('status').getByText('Role of ops@delta.example changed', { exact: false }).waitFor();
    expect((await stack.db.prisma.adminUser.findFirstOrThrow({ where: { email: 'ops@delta.example' } })).role).toBe('READ_ONLY');
    await checkPage(page, 'users');
    await context.close();

    const ops = await newConsoleContext(browser, stack.baseUrl);
    const user = { email: 'ops@delta.example', password };
    await signIn(ops.page, user);
    await ops.page.getByRole('link', { name: 'My account', exact: true }).click();
    const totp = ops.page.getByTestId('totp');
    await totp.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const secret = (await totp.getByTestId('totp-secret').textContent())!;
    expect(await totp.getByTestId('totp-uri').textContent()).toContain(`secret=${secret}`);
    await totp.getByRole('img', { name: 'QR code of the authenticator app setup' }).waitFor();
    await checkPage(ops.page, 'my-account-totp');
    await totp.getByLabel('6-digit code').fill(await totpCode(secret));
    await totp.getByRole('button', { name: 'Turn on' }).click();
    await totp.getByText('Two-step sign-in is on', { exact: false }).waitFor();

    await ops.page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await ops.page.waitForURL(/\/sign-in$/);
    // The code of the next 30-second step: the one that turned TOTP on may not be used twice.
    await signIn(ops.page, user, () => totpCode(secret, Date.now() + 30_000));
    await ops.page.getByRole('link', { name: 'My account', exact: true }).click();
    await ops.page.getByTestId('totp').getByText('On', { exact: true }).waitFor();
    expect([...problems, ...ops.problems]).toEqual([]);
    await ops.context.close();
  });

  it('claws back a delivered message through Microsoft 365, shows its state, restores it, and shows read-only people no button', async () => {
    const microsoft = stack.microsoft;
    const tenantId = microsoft.addTenant();
    const mailbox = microsoft.addUser(tenantId, { userPrincipalName: 'finance@delta.example' });
    const internetMessageId = '<invoice-7@evil.example>';
    microsoft.deliver(tenantId, mailbox.id, internetMessageId, 'Invoice overdue');
    const message = await stack.factories.newMessage(account, { envelopeFrom: 'billing@evil.example', envelopeTo: ['finance@delta.example'], messageIdHeader: internetMessageId, subject: 'Invoice overdue' });

    const { context, page, problems } = await newConsoleContext(browser, stack.baseUrl);
    await signIn(page, admin);
    // Connect the account as its admin would (the consent link, Microsoft's page, the callback).
    const { csrfToken } = (await (await page.request.get('/v1/auth/me')).json()) as { csrfToken: string };
    const link = await page.request.post(`/v1/accounts/${account.id}/integrations/microsoft365/consent-url`, { headers: { 'X-CSRF-Token': csrfToken } });
    expect(link.status()).toBe(200);
    const atMicrosoft = await page.request.get(((await link.json()) as { url: string }).url, { maxRedirects: 0 });
    expect(atMicrosoft.status()).toBe(302);
    const callback = await page.request.get(atMicrosoft.headers().location!);
    expect(await callback.json()).toMatchObject({ status: 'connected', tenantId });

    await page.goto(`/console/t/${account.id}/messages/${message.id}`);
    const clawback = page.getByTestId('clawback');
    await clawback.getByText('This message has not been clawed back.').waitFor();
    await clawback.getByLabel('Clawback action').selectOption('MOVE_TO_DELETED_ITEMS');
    await clawback.getByRole('button', { name: 'Claw back from mailboxes' }).click();
    const timeline = clawback.getByTestId('remediations');
    await timeline.getByText('finance@delta.example: Done').waitFor({ timeout: 30_000 });
    await timeline.getByText('Completed', { exact: true }).waitFor();
    expect(microsoft.locate(tenantId, mailbox.id, internetMessageId)).toEqual([{ folder: 'deleteditems', id: expect.any(String) }]);
    await checkPage(page, 'message-clawback');

    await clawback.getByRole('button', { name: 'Restore to inbox' }).click();
    await waitFor(async () => (await timeline.getByText('Completed', { exact: true }).count()) === 2, 'the restore completed', 30_000);
    expect(microsoft.locate(tenantId, mailbox.id, internetMessageId)).toEqual([{ folder: 'inbox', id: expect.any(String) }]);
    // Restored once: no button offers it again; a new clawback may be asked for.
    expect(await clawback.getByRole('button', { name: 'Restore to inbox' }).count()).toBe(0);
    await clawback.getByRole('button', { name: 'Claw back from mailboxes' }).waitFor();
    const audit = await stack.db.prisma.auditEvent.findMany({ where: { accountId: account.id, action: { in: ['remediation.requested', 'remediation.restore_requested'] } }, orderBy: { id: 'asc' } });
    expect(audit.map((event) => event.actor)).toEqual(['user:admin@delta.example', 'user:admin@delta.example']);
    expect(problems).toEqual([]);
    await context.close();

    const readOnly = await newConsoleContext(browser, stack.baseUrl);
    await signIn(readOnly.page, reader);
    await readOnly.page.goto(`/console/t/${account.id}/messages/${message.id}`);
    const seen = readOnly.page.getByTestId('clawback');
    await seen.getByTestId('remediations').getByText('Move to Deleted Items').waitFor();
    expect(await seen.getByRole('button').count()).toBe(0);
    expect(await seen.getByRole('combobox').count()).toBe(0);
    expect(readOnly.problems).toEqual([]);
    await readOnly.context.close();
  });
});

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Account } from '@mailwarden/db';
import { webhookSignature } from '@mailwarden/export';
import { launchChromium, newConsoleContext, sendMessage, waitFor } from '@mailwarden/testing';
import type { Browser } from 'playwright-core';
import { pageChecker, signIn } from './console-pages';
import { createUser, MIMECAST_CREDENTIALS, startConsoleStack, type ConsoleStack, type ConsoleUser } from './console-stack';

const WEBHOOK_SECRET = 'console-webhook-secret-0123456789';

/** A SIEM's webhook receiver on 127.0.0.1: records every POST (headers and body) and answers 200. */
async function webhookReceiver(): Promise<{ url: string; received: { headers: IncomingHttpHeaders; body: string }[]; close(): Promise<void> }> {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/siem`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * The console's Integrations pages in Chromium against the real admin API and scanner (which runs the directory
 * sync, the Mimecast poll and the SIEM export): Microsoft 365 connected through the fake's admin-consent page and a
 * directory sync run from the console; a webhook export destination added, tested and seen delivering; Mimecast set
 * up against the fake Mimecast (over https, as Mimecast is) and its alert shown with its MITRE ATT&CK technique. Each
 * page passes axe and is saved in English and Japanese; a read-only user finds no change buttons on them.
 */
describe('console integrations in Chromium', () => {
  let stack: ConsoleStack;
  let browser: Browser;
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  let account: Account;
  let admin: ConsoleUser;
  let reader: ConsoleUser;
  const screenshots: string[] = [];
  const checkPage = pageChecker(screenshots);

  beforeAll(async () => {
    [stack, browser, receiver] = await Promise.all([startConsoleStack({ journal: false }), launchChromium(), webhookReceiver()]);
    // Enforcing, with a gateway domain delivering to the SMTP sink and a mailflow domain (so the Microsoft 365 page
    // shows its mailflow health part).
    account = await stack.factories.newAccount({ name: 'Delta Freight', monitorOnly: false });
    await stack.factories.newDomain(account, { name: 'delta.example', mode: 'GATEWAY', verified: true, downstreamHost: '127.0.0.1', downstreamPort: stack.sink.port, downstreamVerifyCert: false });
    await stack.factories.newDomain(account, { name: 'flow.delta.example', mode: 'MAILFLOW', verified: true });
    admin = createUser(stack, { accountId: account.id, role: 'TENANT_ADMIN' }, 'admin@delta.example');
    reader = createUser(stack, { accountId: account.id, role: 'READ_ONLY' }, 'auditor@delta.example');
  }, 120_000);

  afterAll(async () => {
    console.log(`console integration screenshots:\n${screenshots.join('\n')}`);
    await browser?.close();
    await receiver?.close();
    await stack?.stop();
  });

  it('connects Microsoft 365 through the admin-consent page and runs a directory sync from the console', async () => {
    const tenantId = stack.microsoft.addTenant();
    const alice = stack.microsoft.addUser(tenantId, { userPrincipalName: 'alice@delta.example', displayName: 'Alice' });
    stack.microsoft.addUser(tenantId, { userPrincipalName: 'bob@delta.example', displayName: 'Bob' });
    stack.microsoft.addGroup(tenantId, 'Finance', [alice.id]);
    const { context, page, problems } = await newConsoleContext(browser, stack.baseUrl);
    await signIn(page, admin);
    await page.getByRole('link', { name: 'Microsoft 365', exact: true }).click();
    const connection = page.getByTestId('m365-connection');
    await connection.getByTestId('m365-state').getByText('Not connected').waitFor();
    await connection.getByRole('button', { name: 'Get the consent link' }).click();
    // The Global Administrator's browser: Microsoft's consent page sends it back to the admin API's callback.
    const [consentPage] = await Promise.all([page.waitForEvent('popup'), connection.getByRole('link', { name: "Open Microsoft's consent page" }).click()]);
    await consentPage.waitForURL(/\/v1\/integrations\/microsoft365\/consent-callback/);
    expect(await consentPage.textContent('body')).toContain(tenantId);
    await consentPage.close();
    // The console notices by itself.
    await connection.getByTestId('m365-state').getByText('Connected', { exact: true }).waitFor();
    await connection.getByTestId('m365-tenant-id').getByText(tenantId).waitFor();
    await connection.getByRole('button', { name: 'Check the connection' }).click();
    await connection.getByTestId('m365-check').getByText('The connection works', { exact: false }).waitFor();

    const directory = page.getByTestId('m365-directory');
    const runNow = directory.getByRole('button', { name: 'Run a sync now' });
    await waitFor(() => runNow.isEnabled(), 'no sync in flight');
    await runNow.click();
    const onDemand = directory.getByRole('row').filter({ hasText: 'An administrator' });
    await onDemand.getByText('Succeeded').waitFor({ timeout: 30_000 });
    const mailboxes = await stack.db.prisma.user.findMany({ where: { accountId: account.id }, select: { email: true } });
    expect(mailboxes.map((mailbox) => mailbox.email).sort()).toEqual(['alice@delta.example', 'bob@delta.example']);
    await page.getByTestId('mailflow-health').getByRole('rowheader', { name: 'flow.delta.example' }).waitFor();
    await checkPage(page, 'integrations-microsoft365');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('adds a webhook export destination, sends a test event, and sees it deliver what the scanner decided', async () => {
    const { context, page, problems } = await newConsoleContext(browser, stack.baseUrl);
    await signIn(page, admin);
    await page.getByRole('link', { name: 'Export (SIEM)', exact: true }).click();
    await page.getByRole('button', { name: 'Add a destination' }).click();
    const form = page.getByTestId('destination-form');
    await form.getByLabel('Name').fill('SOC webhook');
    await form.getByLabel('Kind').selectOption('WEBHOOK');
    await form.getByLabel('URL').fill(receiver.url);
    await form.getByLabel('Verify the TLS certificate').uncheck();
    await form.getByLabel('Signing secret').fill(WEBHOOK_SECRET);
    await form.getByRole('button', { name: 'Add destination' }).click();
    const card = page.getByTestId('destination-SOC webhook');
    await card.getByText('No delivery yet').waitFor();

    await card.getByRole('button', { name: 'Send a test event to SOC webhook' }).click();
    const tested = card.getByTestId('test-result');
    await tested.getByText('The receiver took the test event', { exact: false }).waitFor();
    const uid = /uid ([^)]+)\)/.exec((await tested.textContent()) ?? '')![1]!;
    const test = receiver.received.find((request) => request.body.includes(uid))!;
    expect(test.headers['x-mailwarden-signature']).toBe(webhookSignature(WEBHOOK_SECRET, String(test.headers['x-mailwarden-timestamp']), test.body));

    // Events committed from now on are delivered: the status moves to delivering, with the event counted.
    const raw = Buffer.from('From: billing@supplier.example\r\nTo: alice@delta.example\r\nSubject: Invoice overdue\r\nMessage-ID: <export-1@delta.example>\r\n\r\nPlease pay.\r\n');
    expect(await sendMessage(stack.ports.gatewaySmtp, 'alice@delta.example', raw)).toMatch(/^250/);
    await card.getByText('Delivering').waitFor({ timeout: 30_000 });
    await waitFor(async () => receiver.received.some((request) => request.body.includes('export-1@delta.example')), 'the scan event at the receiver', 30_000);
    expect(await card.getByTestId('sent').textContent()).not.toMatch(/^0 events/);
    await checkPage(page, 'integrations-export');

    await card.getByRole('button', { name: 'Disable SOC webhook' }).click();
    await card.getByText('Disabled', { exact: true }).waitFor();
    expect((await stack.db.prisma.exportDestination.findFirstOrThrow({ where: { accountId: account.id } })).enabled).toBe(false);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('sets up Mimecast (credentials never shown back), tests it, and shows its alert with the MITRE ATT&CK technique', async () => {
    stack.mimecast.addLogs('url', [
      {
        userEmailAddress: 'alice@delta.example',
        fromUserEmailAddress: 'phisher@evil.example',
        url: 'https://evil.example/login',
        ttpDefinition: 'Default Inbound URL Protect Definition',
        scanResult: 'malicious',
        // Older than the poll's settle margin (its window ends a couple of minutes before now).
        date: new Date(Date.now() - 10 * 60_000).toISOString().replace(/\.\d{3}Z$/, '+0000'),
        creationMethod: 'Entry Scan',
        messageId: '<phish-1@evil.example>',
        subject: 'Your parcel',
      },
    ]);
    const { context, page, problems } = await newConsoleContext(browser, stack.baseUrl);
    await signIn(page, admin);
    await page.getByRole('link', { name: 'Mimecast', exact: true }).click();
    const form = page.getByTestId('mimecast-form');
    await form.getByLabel('Base URL').fill(stack.mimecastUrl);
    await form.getByLabel('Client id', { exact: true }).fill(MIMECAST_CREDENTIALS.clientId);
    await form.getByLabel('Client secret', { exact: true }).fill(MIMECAST_CREDENTIALS.clientSecret);
    await form.getByLabel('Polling interval (seconds)').fill('60');
    await form.getByRole('button', { name: 'Save' }).click();
    const connection = page.getByTestId('mimecast-connection');
    await connection.getByText('Stored encrypted (never shown)').waitFor();
    expect(await page.content()).not.toContain(MIMECAST_CREDENTIALS.clientSecret);
    await connection.getByRole('button', { name: 'Test the connection' }).click();
    await connection.getByTestId('mimecast-test').getByText('the connection works', { exact: false }).waitFor();

    // The scanner polls Mimecast; the alert shows with its technique, linked to MITRE ATT&CK.
    const technique = page.getByRole('link', { name: 'T1598.003 Spearphishing Link' });
    await technique.waitFor({ timeout: 30_000 }).catch(async (error: Error) => {
      throw new Error(`${error.message}\nmimecast requests: ${JSON.stringify(stack.mimecast.requests.map((r) => [r.path, r.status, r.body.slice(0, 300)]))}\nruns: ${JSON.stringify(await stack.db.prisma.mimecastPollRun.findMany())}\nalerts: ${JSON.stringify(await stack.db.prisma.thirdPartyAlert.findMany())}\nmalformed: ${JSON.stringify(await stack.db.prisma.malformedAlert.findMany())}`);
    });
    expect(await technique.getAttribute('href')).toBe('https://attack.mitre.org/techniques/T1598/003/');
    await page.getByTestId('mimecast-alerts').getByText('phisher@evil.example').waitFor();
    await checkPage(page, 'integrations-mimecast');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a read-only user the Integrations pages without a change button', async () => {
    const { context, page, problems } = await newConsoleContext(browser, stack.baseUrl);
    await signIn(page, reader);
    for (const [path, ready] of [
      ['microsoft365', 'm365-connection'],
      ['export', 'destination-SOC webhook'],
      ['mimecast', 'mimecast-connection'],
    ] as const) {
      await page.goto(`/console/t/${account.id}/integrations/${path}`);
      await page.getByTestId(ready).waitFor();
      const buttons = (await page.locator('main button:not(:disabled)').allTextContents()).filter((text) => !/page/i.test(text));
      expect({ path, buttons }).toEqual({ path, buttons: [] });
      expect(await page.locator('main input:not(:disabled), main select:not(:disabled), main textarea:not(:disabled)').count()).toBe(0);
    }
    expect(problems).toEqual([]);
    await context.close();
  });
});

import type { SenderCheckName, SenderCheckSettings } from '@mailwarden/policy';
import { SENDER_CHECK_ORDER } from '@mailwarden/policy';
import { matchAllowList } from './allow-list';
import { AuthenticationSession } from './authentication-session';
import { dkimCheck } from './checks/dkim.check';
import { dmarcCheck } from './checks/dmarc.check';
import { headerAnomalyCheck } from './checks/header-anomaly.check';
import { spfCheck } from './checks/spf.check';
import { SenderCheckInputError } from './sender-check-input.error';
import { senderCheckReport } from './sender-check-report';
import type { SenderCheckInput, SenderCheckOptions, SenderCheckRecord, SenderCheckReport } from './sender-checks.types';

/**
 * Runs the inbound sender checks of DESIGN.md §4 on one message: DMARC, SPF, DKIM, header anomaly,
 * in that order. The first check that fails decides (its configured action) and the later ones are
 * recorded as not run; a temperror is recorded and never a failure; disabled checks are recorded as
 * disabled; a sender on the inbound allow list skips every check (no DNS query is made).
 * Usable without Nest; {@link SenderChecksService} wraps it with the injected resolver.
 * This is the order only: each check is its own module under ./checks, the allow list is ./allow-list,
 * the protocols run once each through ./authentication-session, and ./sender-check-report turns the records into verdicts.
 */
export async function checkSender(input: SenderCheckInput, options: SenderCheckOptions): Promise<SenderCheckReport> {
  validateInput(input);
  const settings = input.settings.senderChecks;
  const session = new AuthenticationSession(input, options);

  const allowList = input.settings.allowList;
  const allowListed =
    allowList.domains.length || allowList.addresses.length
      ? matchAllowList(allowList, [
          { identity: 'envelope-sender', address: input.envelopeSender },
          ...(await session.headerFrom()).map((address) => ({ identity: 'header-from' as const, address })),
        ])
      : null;
  if (allowListed) {
    const skipped = (check: SenderCheckName) => ({ check, status: 'skipped-by-allow-list' as const, temporaryError: false });
    return senderCheckReport(
      input,
      [skipped('dmarc'), skipped('spf'), skipped('dkim'), skipped('header-anomaly')] as SenderCheckReport['checks'],
      allowListed,
    );
  }

  const records: Partial<Record<SenderCheckName, SenderCheckRecord>> = {};
  let decided = false;
  for (const name of SENDER_CHECK_ORDER) {
    if (!isEnabled(settings, name)) {
      records[name] = { check: name, status: 'disabled', temporaryError: false } as SenderCheckRecord;
      continue;
    }
    if (decided) {
      records[name] = { check: name, status: 'not-run', temporaryError: false } as SenderCheckRecord;
      continue;
    }
    const record = await runCheck(name, session, input, options);
    records[name] = record;
    decided = record.status === 'fail';
  }
  return senderCheckReport(input, [records.dmarc, records.spf, records.dkim, records['header-anomaly']] as SenderCheckReport['checks'], null);
}

function validateInput(input: SenderCheckInput): void {
  if (!Buffer.isBuffer(input?.message)) {
    throw new SenderCheckInputError('message must be a Buffer holding the raw message');
  }
  if (typeof input.clientIp !== 'string' || !input.clientIp) {
    throw new SenderCheckInputError('clientIp is required');
  }
  if (typeof input.envelopeSender !== 'string') {
    throw new SenderCheckInputError('envelopeSender must be a string (empty for the null reverse-path)');
  }
  if (!Array.isArray(input.envelopeRecipients) || !input.envelopeRecipients.length) {
    throw new SenderCheckInputError('envelopeRecipients must list at least one recipient');
  }
  if (!input.settings?.senderChecks || !input.settings.allowList) {
    throw new SenderCheckInputError('settings.senderChecks and settings.allowList are required');
  }
}

function isEnabled(settings: SenderCheckSettings, name: SenderCheckName): boolean {
  switch (name) {
    case 'dmarc':
      return settings.dmarc.enabled;
    case 'spf':
      return settings.spf.enabled;
    case 'dkim':
      return settings.dkim.enabled;
    case 'header-anomaly':
      return settings.headerAnomaly.enabled;
  }
}

async function runCheck(name: SenderCheckName, session: AuthenticationSession, input: SenderCheckInput, options: SenderCheckOptions): Promise<SenderCheckRecord> {
  const settings = input.settings.senderChecks;
  switch (name) {
    case 'dmarc': {
      const record = await dmarcCheck(await session.dmarc(), () => session.arc(), settings, options.random ?? Math.random);
      // DMARC is computed from SPF and DKIM: its evidence shows both, even when its failure stops the later checks
      // (that rule governs the action, not what the admin sees: "DMARC fail, p=none" still shows the SPF fail).
      const spf = spfCheck(await session.spf(), input, settings.spf.action);
      const dkim = dkimCheck(await session.dkim(), settings.dkim.action);
      record.evidence = { ...record.evidence!, computedFrom: { spf: { status: spf.status, ...spf.evidence! }, dkim: { status: dkim.status, ...dkim.evidence! } } };
      return record;
    }
    case 'spf':
      return spfCheck(await session.spf(), input, settings.spf.action);
    case 'dkim':
      return dkimCheck(await session.dkim(), settings.dkim.action);
    case 'header-anomaly':
      return headerAnomalyCheck(await session.headerFrom(), input, settings.headerAnomaly.action);
  }
}

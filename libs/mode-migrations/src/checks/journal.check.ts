import type { MessageSource } from '@mailwarden/db';
import type { CheckResult, StepContext } from '../migration-step.types';

const PATH_NAMES: Record<MessageSource, string> = { JOURNAL: 'journal copy', GATEWAY: 'message through the MX gateway', MAILFLOW: 'message through the Microsoft 365 connector' };
const names = (context: StepContext) => context.params.domains.map((domain) => domain.name);

/**
 * Passes once a message of the plan's domains arrived through one of `sources` after the step (re)started: the
 * new path works. `check` names the evidence (journal-message-seen, mailflow-quick-test).
 */
export async function checkPathReceives(context: StepContext, sources: readonly MessageSource[], check: string, hint: string): Promise<CheckResult> {
  const message = await context.firstMessageSince(context.startedAt, sources);
  const what = sources.map((source) => PATH_NAMES[source]).join(' or ');
  return {
    passed: message !== null,
    available: true,
    message: message
      ? `${PATH_NAMES[message.source]} ${message.id} for ${names(context).join(', ')} received at ${message.receivedAt.toISOString()}`
      : `no ${what} for ${names(context).join(', ')} since ${context.startedAt.toISOString()}: ${hint}`,
    evidence: {
      check,
      since: context.startedAt.toISOString(),
      domains: names(context),
      sources: [...sources],
      messageId: message?.id ?? null,
      receivedAt: message?.receivedAt.toISOString() ?? null,
    },
  };
}

/** A journal copy of the plan's domains arrived after the step started (journaling set up). */
export const checkJournalMessageSeen = (context: StepContext): Promise<CheckResult> =>
  checkPathReceives(context, ['JOURNAL'], 'journal-message-seen', `send a test message to a mailbox of ${names(context).join(', ')} (journal address ${context.journalAddress})`);

/**
 * Passes once nothing of the plan's domains arrived through `sources` (the old path) for the plan's quiet period
 * after the step (re)started. Only the domains being moved count; `retry` restarts the wait.
 */
export async function checkPathQuiet(context: StepContext, sources: readonly MessageSource[], check: string, hint: string): Promise<CheckResult> {
  const elapsed = context.now.getTime() - context.startedAt.getTime();
  const seen = await context.firstMessageSince(context.startedAt, sources);
  const quiet = seen === null && elapsed >= context.quietPeriodMs;
  const what = sources.map((source) => PATH_NAMES[source]).join(' or ');
  let message: string;
  if (seen) {
    message = `${PATH_NAMES[seen.source]} ${seen.id} still arrived at ${seen.receivedAt.toISOString()}: ${hint}, then retry (the wait starts again)`;
  } else if (!quiet) {
    message = `no ${what} for ${names(context).join(', ')} since ${context.startedAt.toISOString()}; waiting ${Math.ceil((context.quietPeriodMs - elapsed) / 1000)} s more to be sure`;
  } else {
    message = `no ${what} for ${names(context).join(', ')} for ${Math.round(elapsed / 1000)} s`;
  }
  return {
    passed: quiet,
    available: true,
    message,
    evidence: {
      check,
      since: context.startedAt.toISOString(),
      domains: names(context),
      sources: [...sources],
      quietPeriodMs: context.quietPeriodMs,
      lastSeenMessageId: seen?.id ?? null,
    },
  };
}

/** Journal rules removed: no journal copy of the plan's domains for the quiet period. */
export const checkJournalStopped = (context: StepContext): Promise<CheckResult> =>
  checkPathQuiet(context, ['JOURNAL'], 'journal-stopped', 'remove the journal rule');

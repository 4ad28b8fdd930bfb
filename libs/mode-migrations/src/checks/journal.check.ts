import type { CheckResult, StepContext } from '../migration-step.types';

/** Passes once the journal ingest stored a journal copy for the account after the step started. */
export async function checkJournalMessageSeen(context: StepContext): Promise<CheckResult> {
  const message = await context.firstJournalMessageSince(context.startedAt);
  return {
    passed: message !== null,
    available: true,
    message: message
      ? `journal copy ${message.id} received at ${message.receivedAt.toISOString()}`
      : `no journal copy received at ${context.journalAddress} since ${context.startedAt.toISOString()}: send a test message to a mailbox of a connected domain`,
    evidence: {
      check: 'journal-message-seen',
      since: context.startedAt.toISOString(),
      messageId: message?.id ?? null,
      receivedAt: message?.receivedAt.toISOString() ?? null,
    },
  };
}

/** Passes once no journal copy arrived for the quiet period after the admin was told to remove the journal rules. */
export async function checkJournalStopped(context: StepContext): Promise<CheckResult> {
  const elapsed = context.now.getTime() - context.startedAt.getTime();
  const seen = await context.firstJournalMessageSince(context.startedAt);
  const quiet = seen === null && elapsed >= context.journalQuietPeriodMs;
  let message: string;
  if (seen) {
    message = `journal copy ${seen.id} still arrived at ${seen.receivedAt.toISOString()}: remove the journal rule, then retry`;
  } else if (!quiet) {
    message = `no journal copy since ${context.startedAt.toISOString()}; waiting ${Math.ceil((context.journalQuietPeriodMs - elapsed) / 1000)} s more to be sure`;
  } else {
    message = `no journal copy received for ${Math.round(elapsed / 1000)} s after the rules were to be removed`;
  }
  return {
    passed: quiet,
    available: true,
    message,
    evidence: {
      check: 'journal-stopped',
      since: context.startedAt.toISOString(),
      quietPeriodMs: context.journalQuietPeriodMs,
      lastSeenMessageId: seen?.id ?? null,
    },
  };
}

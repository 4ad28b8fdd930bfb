import type { SMTPServerSession } from 'smtp-server';
import { SmtpTransactions } from './smtp-transaction';

const session = () => ({ envelope: { mailFrom: false, rcptTo: [] } }) as unknown as SMTPServerSession;

describe(SmtpTransactions.name, () => {
  it('should keep state for one envelope and drop it when smtp-server replaces the envelope (RSET, EHLO, STARTTLS, DATA reply)', () => {
    const transactions = new SmtpTransactions<string[]>(() => []);
    const one = session();
    transactions.begin(one).push('tenant-a');
    expect(transactions.current(one)).toEqual(['tenant-a']);
    one.envelope = { mailFrom: false, rcptTo: [] } as unknown as SMTPServerSession['envelope'];
    expect(transactions.current(one)).toEqual([]);
  });

  it('should start over at MAIL even on the same envelope, and keep sessions apart', () => {
    const transactions = new SmtpTransactions<string[]>(() => []);
    const [one, two] = [session(), session()];
    transactions.current(one).push('tenant-a');
    transactions.current(two).push('tenant-b');
    expect(transactions.begin(one)).toEqual([]);
    expect(transactions.current(two)).toEqual(['tenant-b']);
  });
});

import type { ARCResult, DKIMVerifyResult, DMARCResult, DNSResolver } from 'mailauth';
import { alignableIdentifiers, verifyArc, verifyDkim, verifyDmarc, verifySpf } from './authenticate-message';
import { DnsError, DnsResolveFunction } from './dns-resolver';
import { dkimVerify, type SPFResult } from './mailauth.adapter';
import type { SenderCheckInput, SenderCheckOptions } from './sender-checks.types';

/** Runs each protocol at most once, and only when a check asks for it (a check that is not run costs no DNS). */
export class AuthenticationSession {
  private dkimResult?: Promise<DKIMVerifyResult>;
  private spfResult?: Promise<SPFResult>;
  private arcResult?: Promise<ARCResult>;
  private dmarcResult?: Promise<{ dmarc: DMARCResult | false; skipReason?: string }>;
  private fromResult?: Promise<string[]>;

  constructor(
    private readonly input: SenderCheckInput,
    private readonly options: SenderCheckOptions,
  ) {}

  dkim(): Promise<DKIMVerifyResult> {
    this.dkimResult ??= verifyDkim(this.input.message, {
      resolver: this.options.resolver,
      envelopeSender: this.input.envelopeSender,
      verificationTime: this.options.verificationTime,
    });
    return this.dkimResult;
  }

  spf(): Promise<SPFResult> {
    this.spfResult ??= verifySpf(this.input, { resolver: this.options.resolver, authservId: this.options.authservId });
    return this.spfResult;
  }

  arc(): Promise<ARCResult> {
    this.arcResult ??= this.dkim().then((dkim) => verifyArc(dkim, { resolver: this.options.resolver, clientIp: this.input.clientIp }));
    return this.arcResult;
  }

  dmarc(): Promise<{ dmarc: DMARCResult | false; skipReason?: string }> {
    this.dmarcResult ??= Promise.all([this.dkim(), this.spf()]).then(([dkim, spf]) => verifyDmarc(alignableIdentifiers(dkim, spf, this.options.resolver)));
    return this.dmarcResult;
  }

  /**
   * Header From addresses, read by mailauth's own header parser (so DMARC and the header anomaly
   * check see the same author). Before DKIM has run, only the header block is parsed, without DNS.
   */
  headerFrom(): Promise<string[]> {
    this.fromResult ??= (this.dkimResult ?? dkimVerify(headerBlock(this.input.message), { resolver: refuseDns as DNSResolver })).then(
      (dkim) => dkim.headerFrom ?? [],
    );
    return this.fromResult;
  }
}

/** Used when only the headers are needed: any key lookup is answered NXDOMAIN without a query. */
const refuseDns: DnsResolveFunction = async (name, rrtype) => {
  throw new DnsError('ENOTFOUND', name, rrtype);
};

/** The header section and the empty line that ends it (RFC 5322 2.1); the whole message if there is no body. */
function headerBlock(message: Buffer): Buffer {
  const end = message.indexOf('\r\n\r\n');
  if (end >= 0) {
    return message.subarray(0, end + 4);
  }
  const bareEnd = message.indexOf('\n\n');
  return bareEnd >= 0 ? message.subarray(0, bareEnd + 2) : message;
}

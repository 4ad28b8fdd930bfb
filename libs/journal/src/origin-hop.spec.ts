import { findOriginHop } from './origin-hop';

const message = (...received: string[]) =>
  Buffer.from([...received.map((value) => `Received: ${value}`), 'From: a@example.com', 'Subject: x', '', 'body', ''].join('\r\n'));

describe(findOriginHop.name, () => {
  it('should take the client of the Exchange Online Protection edge hop', () => {
    const raw = message(
      'from DM6PR11MB1234.namprd11.prod.outlook.com (2603:10b6:5:1::1) by SN6PR11MB5678.namprd11.prod.outlook.com with HTTPS; Wed, 25 Nov 2026 10:00:02 +0000',
      'from BN1NAM02FT012.eop-nam02.prod.protection.outlook.com (2603:10b6:5:2::2) by DM6PR11MB1234.namprd11.prod.outlook.com (2603:10b6:5:1::1) with Microsoft SMTP Server; Wed, 25 Nov 2026 10:00:01 +0000',
      'from mail.sender.example (203.0.113.25) by BN1NAM02FT012.mail.protection.outlook.com (10.13.2.140) with Microsoft SMTP Server id 15.20.1; Wed, 25 Nov 2026 10:00:00 +0000',
      'from [10.0.0.5] by mail.sender.example; Wed, 25 Nov 2026 09:59:59 +0000',
    );
    expect(findOriginHop(raw)).toMatchObject({ clientIp: '203.0.113.25', helo: 'mail.sender.example' });
  });

  it('should take the client of the Gmail edge hop, with an IPv6 address in brackets', () => {
    const raw = message(
      'by 2002:a05:6a00:1::1 with SMTP id x; Wed, 25 Nov 2026 10:00:01 -0800 (PST)',
      'from mx.sender.example (mx.sender.example. [2001:db8::25]) by mx.google.com with ESMTPS id y for <u@customer.example>; Wed, 25 Nov 2026 10:00:00 -0800 (PST)',
    );
    expect(findOriginHop(raw)).toMatchObject({ clientIp: '2001:db8::25', helo: 'mx.sender.example' });
  });

  it('should return null when no hop crossed the provider edge', () => {
    expect(findOriginHop(message('from a.example (192.0.2.1) by b.example; Wed, 25 Nov 2026 10:00:00 +0000'))).toBeNull();
    expect(findOriginHop(message())).toBeNull();
  });

  it('should skip edge hops whose client is private or inside the provider', () => {
    const raw = message(
      'from NAM02-BN1-obe.outbound.protection.outlook.com (10.1.2.3) by BN1NAM02FT012.mail.protection.outlook.com; Wed, 25 Nov 2026 10:00:00 +0000',
    );
    expect(findOriginHop(raw)).toBeNull();
  });
});

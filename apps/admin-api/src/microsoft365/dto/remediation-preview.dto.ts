import { ApiProperty } from '@nestjs/swagger';

export class RemediationPreviewDto {
  @ApiProperty({ description: 'Messages a remediation with this search would act on' })
  messages!: number;

  @ApiProperty({ description: 'Recipient mailboxes (message × recipient) it would search' })
  mailboxes!: number;

  @ApiProperty({ description: "Matching messages left out: no Message-ID, or no recipient in the account's domains" })
  skippedMessages!: number;

  @ApiProperty({ description: 'The search matches more than the 10,000 messages one remediation may act on' })
  tooMany!: boolean;
}

import { ApiProperty, OmitType } from '@nestjs/swagger';
import { RemediationDto } from '../../microsoft365/dto/remediation.dto';
import { MessageQuarantineRefDto } from './message-quarantine-ref.dto';
import { MessageSummaryDto } from './message-summary.dto';
import { VerdictDto } from './verdict.dto';

/** A history entry's detail: the summary's fields, the SMTP client, metadata, full verdicts and quarantine items. */
export class MessageDetailDto extends OmitType(MessageSummaryDto, ['verdicts'] as const) {
  @ApiProperty({ type: String, nullable: true })
  clientIp!: string | null;

  @ApiProperty({ type: String, nullable: true })
  helo!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  scannedAt!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Journal report details, connector, parse errors' })
  metadata!: object;

  @ApiProperty({ type: [VerdictDto], description: 'Per recipient: every check with evidence, decided and applied action, enforced' })
  verdicts!: VerdictDto[];

  @ApiProperty({ type: [MessageQuarantineRefDto] })
  quarantine!: MessageQuarantineRefDto[];

  @ApiProperty({ type: [RemediationDto], description: "Microsoft 365 clawbacks and restores of this message, newest first, with this message's per-mailbox status" })
  remediations!: RemediationDto[];
}

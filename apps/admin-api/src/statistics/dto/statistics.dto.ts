import { ApiProperty } from '@nestjs/swagger';
import { StatisticsCountDto } from './statistics-count.dto';

/** Dashboard figures over an hour-aligned window; every count is of verdicts (one per recipient of a message). */
export class StatisticsDto {
  @ApiProperty({ type: String, format: 'date-time', description: 'Effective window start (rounded down to the hour)' })
  from!: string;

  @ApiProperty({ type: String, format: 'date-time', description: 'Effective window end, exclusive (rounded up to the hour)' })
  to!: string;

  @ApiProperty({ description: 'Verdicts in the window' })
  total!: number;

  @ApiProperty({ type: [StatisticsCountDto], description: 'INBOUND, OUTBOUND, INTERNAL, EXTERNAL' })
  byDirection!: StatisticsCountDto[];

  @ApiProperty({ type: [StatisticsCountDto], description: 'What policy decided: DELIVER, TAG_SUBJECT, QUARANTINE, REJECT' })
  byDecidedAction!: StatisticsCountDto[];

  @ApiProperty({ type: [StatisticsCountDto], description: 'What Mailwarden applied; NONE in monitor-only (decided, never applied)' })
  byAppliedAction!: StatisticsCountDto[];

  @ApiProperty({ type: [StatisticsCountDto], description: 'First failing sender check (dmarc, spf, dkim, header-anomaly, ...)' })
  byFailedCheck!: StatisticsCountDto[];

  @ApiProperty({ type: [StatisticsCountDto], description: 'Data-control rules (ids) that matched, messages per rule, top N' })
  byDataControlRule!: StatisticsCountDto[];

  @ApiProperty({ type: [StatisticsCountDto], description: 'Envelope senders of mail not simply delivered (a failed check or an action other than DELIVER), messages, top N' })
  topSenders!: StatisticsCountDto[];

  @ApiProperty({ type: [StatisticsCountDto], description: 'Recipients targeted by such mail, top N' })
  topRecipients!: StatisticsCountDto[];
}

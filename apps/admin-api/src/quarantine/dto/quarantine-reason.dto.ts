import { ApiProperty } from '@nestjs/swagger';

/** One reason of the recipient's decision, as libs/policy gave it (most severe first). */
export class QuarantineReasonDto {
  @ApiProperty({ enum: ['block-list', 'allow-list', 'sender-check', 'data-control'] })
  kind!: string;

  @ApiProperty({ description: 'The sender-check name, block-list, allow-list, or the data-control rule id', example: 'dkim' })
  source!: string;

  @ApiProperty({ enum: ['DELIVER', 'TAG_SUBJECT', 'QUARANTINE', 'REJECT'] })
  action!: string;

  @ApiProperty({ example: 'dkim: signature failed verification' })
  detail!: string;
}

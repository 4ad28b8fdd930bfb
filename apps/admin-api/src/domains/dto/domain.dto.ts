import { ApiProperty } from '@nestjs/swagger';
import { DomainMailflowHealthDto } from '../../mailflow/dto/mailflow-health.dto';
import { DownstreamRouteDto } from './downstream-route.dto';
import { VerificationRecordDto } from './verification-record.dto';

export class DomainDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty({ example: 'contoso.example' })
  name!: string;

  @ApiProperty({ enum: ['JOURNAL', 'GATEWAY', 'MAILFLOW'], description: 'Changed only through a mode migration' })
  mode!: string;

  @ApiProperty({
    enum: ['JOURNAL', 'GATEWAY', 'MAILFLOW'],
    nullable: true,
    description: "While a mode migration moves the domain: the other mode whose path also accepts its mail (overlap window); null otherwise",
  })
  transitionMode!: string | null;

  @ApiProperty({ enum: ['PENDING', 'VERIFIED', 'FAILED'], description: 'Only verified domains are scanned' })
  verificationStatus!: string;

  @ApiProperty({ type: VerificationRecordDto })
  verificationRecord!: VerificationRecordDto;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  verifiedAt!: string | null;

  @ApiProperty({ type: DownstreamRouteDto, nullable: true })
  downstream!: DownstreamRouteDto | null;

  @ApiProperty({
    type: DomainMailflowHealthDto,
    nullable: true,
    description: "Microsoft 365 mailflow: the tamper check's last view (DEGRADED when Mailwarden's connectors or rule were changed); null: never checked",
  })
  mailflowHealth!: DomainMailflowHealthDto | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: string;
}

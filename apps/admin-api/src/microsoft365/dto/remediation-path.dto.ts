import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';

export class RemediationPathDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  accountId!: string;

  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  remediationId!: string;
}

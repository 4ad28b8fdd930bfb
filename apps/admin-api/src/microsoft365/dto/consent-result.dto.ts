import { ApiProperty } from '@nestjs/swagger';

export class ConsentResultDto {
  @ApiProperty({ enum: ['connected'] })
  status!: 'connected';

  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty({ description: 'Microsoft Entra tenant id recorded on the account' })
  tenantId!: string;
}

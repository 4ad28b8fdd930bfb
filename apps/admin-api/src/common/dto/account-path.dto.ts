import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';

export class AccountPathDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  accountId!: string;
}

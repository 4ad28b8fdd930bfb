import { ApiProperty } from '@nestjs/swagger';
import { IsEmail } from 'class-validator';

export class EffectivePolicyQueryDto {
  @ApiProperty({ example: 'alice@contoso.example' })
  @IsEmail({ require_tld: false })
  recipient!: string;
}

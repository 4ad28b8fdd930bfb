import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';

/** A new partner admin key; with `revokes`, a rotation (the old key stops in the same transaction). */
export class CreatePartnerApiKeyDto {
  @ApiProperty({ example: 'Partner automation 2027', maxLength: 100 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'A partner admin key of this partner to revoke at once (usually the calling key)' })
  @IsOptional()
  @IsUUID()
  revokes?: string;
}

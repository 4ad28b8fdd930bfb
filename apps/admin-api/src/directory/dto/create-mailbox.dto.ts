import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, MaxLength } from 'class-validator';

export class CreateMailboxDto {
  @ApiProperty({ example: 'alice@contoso.example', maxLength: 320 })
  @IsEmail({ require_tld: true })
  @MaxLength(320)
  email!: string;

  @ApiPropertyOptional({ example: 'Alice Example', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  displayName?: string;
}

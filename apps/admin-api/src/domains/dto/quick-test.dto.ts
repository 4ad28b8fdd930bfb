import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsOptional, MaxLength } from 'class-validator';

export class QuickTestDto {
  @ApiPropertyOptional({ description: 'A recipient of the domain (default postmaster@<domain>)', example: 'postmaster@contoso.example' })
  @IsOptional()
  @IsEmail({ require_tld: false })
  @MaxLength(320)
  recipient?: string;
}

import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';

export class ImportMailboxesDto {
  @ApiProperty({ description: 'CSV text with a header row: `email` (required) and `displayName` (optional)', example: 'email,displayName\nalice@contoso.example,Alice' })
  @IsString()
  @MaxLength(5_000_000)
  csv!: string;
}

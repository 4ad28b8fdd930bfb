import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';

export class ImportMailboxesDto {
  @ApiProperty({
    description: "CSV text with a header row: `email` (required) and `displayName` (optional). The API's JSON body limit (100 KB, about 2,500 rows) applies: split larger files",
    example: 'email,displayName\nalice@contoso.example,Alice',
  })
  @IsString()
  @MaxLength(100_000)
  csv!: string;
}

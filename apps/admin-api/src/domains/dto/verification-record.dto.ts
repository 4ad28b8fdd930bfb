import { ApiProperty } from '@nestjs/swagger';

/** The DNS record that proves control of a domain. */
export class VerificationRecordDto {
  @ApiProperty({ example: 'contoso.example' })
  name!: string;

  @ApiProperty({ example: 'TXT' })
  type!: string;

  @ApiProperty({ example: 'mailwarden-verification=3f2a…' })
  value!: string;
}

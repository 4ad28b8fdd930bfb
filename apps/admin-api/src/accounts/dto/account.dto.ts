import { ApiProperty } from '@nestjs/swagger';

export class AccountDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid', nullable: true, type: String })
  partnerId!: string | null;

  @ApiProperty()
  name!: string;

  @ApiProperty({ description: 'Monitor-only (EMS mode): every action is decided and recorded, never applied. Changed only through a mode migration.' })
  monitorOnly!: boolean;

  @ApiProperty({ example: 'j-0123abcd@journal.mailwarden.local', description: 'Where journal copies of this account are sent' })
  journalAddress!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: string;
}

import { ApiProperty } from '@nestjs/swagger';
import { EmergencyInboxEntryDto } from './emergency-inbox-entry.dto';

export class EmergencyInboxPageDto {
  @ApiProperty({ type: [EmergencyInboxEntryDto] })
  items!: EmergencyInboxEntryDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

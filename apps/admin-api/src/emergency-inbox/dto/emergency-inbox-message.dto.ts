import { ApiProperty } from '@nestjs/swagger';
import { EmergencyInboxEntryDto } from './emergency-inbox-entry.dto';

export class EmergencyInboxAttachmentDto {
  @ApiProperty({ type: String, nullable: true })
  filename!: string | null;

  @ApiProperty()
  contentType!: string;

  @ApiProperty()
  size!: number;
}

/** A message of the emergency inbox, decoded for reading (the original is at …/raw). */
export class EmergencyInboxMessageDto extends EmergencyInboxEntryDto {
  @ApiProperty({ type: String, nullable: true, description: 'The decoded Subject' })
  decodedSubject!: string | null;

  @ApiProperty({ type: [String], description: 'The text bodies (an html body flattened to text)' })
  text!: string[];

  @ApiProperty({ type: [EmergencyInboxAttachmentDto], description: 'Attachments (download the whole message at …/raw to open them)' })
  attachments!: EmergencyInboxAttachmentDto[];
}

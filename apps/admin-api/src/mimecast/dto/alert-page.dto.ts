import { ApiProperty } from '@nestjs/swagger';
import { AlertDto } from './alert.dto';

export class AlertPageDto {
  @ApiProperty({ type: [AlertDto] })
  items!: AlertDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

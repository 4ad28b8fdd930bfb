import { ApiProperty } from '@nestjs/swagger';

export class MimecastTestResultDto {
  @ApiProperty()
  ok!: boolean;

  @ApiProperty({ type: String, nullable: true, example: 'unauthorized', description: 'unauthorized, rate-limited, unavailable, api-failure, bad-response, not-configured, internal' })
  code!: string | null;

  @ApiProperty({ type: String, nullable: true })
  message!: string | null;
}

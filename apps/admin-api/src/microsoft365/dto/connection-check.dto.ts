import { ApiProperty } from '@nestjs/swagger';

export class ConnectionCheckDto {
  @ApiProperty()
  ok!: boolean;

  @ApiProperty({ type: String, nullable: true, description: '`token`, or the Graph permission whose test call failed', example: 'Group.Read.All' })
  failedStep!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The application permission Microsoft refused (403), if that was the failure', example: 'Group.Read.All' })
  missingPermission!: string | null;

  @ApiProperty({ type: String, nullable: true, description: "Microsoft's error code", example: 'Authorization_RequestDenied' })
  code!: string | null;

  @ApiProperty({ type: String, nullable: true, description: "Microsoft's error message, as returned" })
  message!: string | null;
}

import { ApiProperty } from '@nestjs/swagger';

export class ConsentUrlDto {
  @ApiProperty({ description: 'Send the tenant admin (a Global Administrator) here to grant consent', example: 'https://login.microsoftonline.com/organizations/adminconsent?client_id=…&redirect_uri=…&state=…' })
  url!: string;

  @ApiProperty({ type: String, format: 'date-time', description: 'The signed state in the link is refused after this' })
  expiresAt!: string;

  @ApiProperty({ description: 'Where Microsoft sends the admin back (register it as a Web redirect URI of the app)' })
  redirectUri!: string;
}

import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';

export class TotpSetupDto {
  @ApiProperty({ description: 'Base32 secret (shown once; stored encrypted with SECRETS_KEY)', example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' })
  secret!: string;

  @ApiProperty({ description: 'otpauth:// URI for a QR code', example: 'otpauth://totp/Mailwarden:admin%40example.com?secret=…&issuer=Mailwarden' })
  otpauthUri!: string;
}

export class TotpCodeDto {
  @ApiProperty({ example: '123456', description: 'The current 6-digit code of the authenticator app' })
  @IsString()
  @Matches(/^\d{6}$/, { message: 'code must be 6 digits' })
  code!: string;
}

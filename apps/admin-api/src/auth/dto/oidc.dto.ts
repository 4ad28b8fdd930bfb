import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class OidcProviderDto {
  @ApiProperty({ example: 'microsoft' })
  id!: string;

  @ApiProperty({ example: 'Microsoft' })
  displayName!: string;

  @ApiProperty({ example: '/v1/auth/oidc/microsoft/start', description: 'Navigate the browser here (add ?returnTo=/path)' })
  startUrl!: string;
}

export class OidcProvidersDto {
  @ApiProperty({ type: [OidcProviderDto] })
  items!: OidcProviderDto[];
}

export class OidcStartQueryDto {
  @ApiPropertyOptional({ description: 'Path on this site to come back to after sign-in (default /)', example: '/console/' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  returnTo?: string;
}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, MaxLength, Min } from 'class-validator';

export class ConfigureMimecastDto {
  @ApiProperty({ enum: ['V1', 'V2'], description: 'V2: API 2.0 OAuth client credentials; V1: API 1.0 HMAC-signed' })
  @IsIn(['V1', 'V2'])
  apiVersion!: 'V1' | 'V2';

  @ApiProperty({ example: 'https://api.services.mimecast.com', description: "API 2.0: the global gateway; API 1.0: the tenant's regional base URL" })
  @IsString()
  @MaxLength(500)
  baseUrl!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    writeOnly: true,
    description: 'Write-only, stored encrypted. V2: { clientId, clientSecret }; V1: { appId, appKey, accessKey, secretKey }',
  })
  @IsObject()
  credentials!: Record<string, string>;

  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ minimum: 60, default: 300 })
  @IsOptional()
  @IsInt()
  @Min(60)
  pollIntervalSeconds?: number;
}

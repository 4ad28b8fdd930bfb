import { ApiProperty } from '@nestjs/swagger';
import type { AdminUserView } from '@mailwarden/db';

const ROLES = ['PARTNER_ADMIN', 'TENANT_ADMIN', 'READ_ONLY'] as const;

/** The signed-in person. */
export class SessionUserDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'admin@example.com' })
  email!: string;

  @ApiProperty({ example: 'Ada Admin' })
  displayName!: string;

  @ApiProperty({ enum: ROLES })
  role!: (typeof ROLES)[number];

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'PARTNER_ADMIN: its partner' })
  partnerId!: string | null;

  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'TENANT_ADMIN, READ_ONLY: its account' })
  accountId!: string | null;

  @ApiProperty({ example: 'en', description: 'BCP 47 language tag the console uses (en, it, ja, de)' })
  locale!: string;

  @ApiProperty()
  totpEnabled!: boolean;
}

export class LoginResultDto {
  @ApiProperty({ type: SessionUserDto })
  user!: SessionUserDto;

  @ApiProperty({ description: 'Send it as X-CSRF-Token on every POST, PUT, PATCH and DELETE of this session' })
  csrfToken!: string;
}

export class MeDto extends SessionUserDto {
  @ApiProperty({ description: 'Send it as X-CSRF-Token on every POST, PUT, PATCH and DELETE of this session' })
  csrfToken!: string;
}

export function toSessionUserDto(user: Pick<AdminUserView, 'id' | 'email' | 'displayName' | 'role' | 'partnerId' | 'accountId' | 'locale' | 'totpEnabledAt'>): SessionUserDto {
  return {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    role: user.role,
    partnerId: user.partnerId,
    accountId: user.accountId,
    locale: user.locale,
    totpEnabled: user.totpEnabledAt !== null,
  };
}

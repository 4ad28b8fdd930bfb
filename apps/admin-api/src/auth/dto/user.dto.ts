import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsEmail, IsIn, IsNotEmpty, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import type { AdminUserView } from '@mailwarden/db';
import { PageQueryDto } from '../../common/dto/page-query.dto';

export const USER_ROLES = ['PARTNER_ADMIN', 'TENANT_ADMIN', 'READ_ONLY'] as const;
export const USER_LOCALES = ['en', 'it', 'ja', 'de'] as const;

/** A person who signs in, as admins see it (never its password hash or TOTP secret). */
export class UserDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'ada@example.com' })
  email!: string;

  @ApiProperty({ example: 'Ada Admin' })
  displayName!: string;

  @ApiProperty({ enum: USER_ROLES })
  role!: (typeof USER_ROLES)[number];

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  partnerId!: string | null;

  @ApiProperty({ type: String, format: 'uuid', nullable: true })
  accountId!: string | null;

  @ApiProperty({ enum: USER_LOCALES })
  locale!: string;

  @ApiProperty()
  disabled!: boolean;

  @ApiProperty({ description: 'Signs in with a password (else OpenID Connect only)' })
  hasPassword!: boolean;

  @ApiProperty()
  totpEnabled!: boolean;

  @ApiProperty({ description: 'Linked to an OpenID Connect identity' })
  oidcLinked!: boolean;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}

export function toUserDto(user: AdminUserView): UserDto {
  return {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    role: user.role,
    partnerId: user.partnerId,
    accountId: user.accountId,
    locale: user.locale,
    disabled: user.disabledAt !== null,
    hasPassword: user.hasPassword,
    totpEnabled: user.totpEnabledAt !== null,
    oidcLinked: user.oidcSubject !== null,
    createdAt: user.createdAt.toISOString(),
  };
}

export class UserPageDto {
  @ApiProperty({ type: [UserDto] })
  items!: UserDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null on the last page' })
  nextCursor!: string | null;
}

export class UserQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid', description: "Only this account's users" })
  @IsOptional()
  @IsUUID()
  accountId?: string;
}

export class CreateUserDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: 320 })
  @IsString()
  @IsEmail()
  @MaxLength(320)
  email!: string;

  @ApiProperty({ example: 'Ada Admin', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  displayName!: string;

  @ApiProperty({ enum: USER_ROLES, description: 'PARTNER_ADMIN (partner admins only, in their partner) or an account role (with accountId)' })
  @IsIn(USER_ROLES)
  role!: (typeof USER_ROLES)[number];

  @ApiPropertyOptional({ format: 'uuid', description: 'TENANT_ADMIN and READ_ONLY: the account' })
  @IsOptional()
  @IsUUID()
  accountId?: string;

  @ApiPropertyOptional({ description: '12 to 256 characters; omit for a user who signs in only with OpenID Connect', format: 'password' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  password?: string;

  @ApiPropertyOptional({ enum: USER_LOCALES, default: 'en' })
  @IsOptional()
  @IsIn(USER_LOCALES)
  locale?: (typeof USER_LOCALES)[number];
}

export class UpdateUserDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  displayName?: string;

  @ApiPropertyOptional({ enum: USER_LOCALES })
  @IsOptional()
  @IsIn(USER_LOCALES)
  locale?: (typeof USER_LOCALES)[number];

  @ApiPropertyOptional({ enum: ['TENANT_ADMIN', 'READ_ONLY'], description: 'Account users only: between TENANT_ADMIN and READ_ONLY' })
  @IsOptional()
  @IsIn(['TENANT_ADMIN', 'READ_ONLY'])
  role?: 'TENANT_ADMIN' | 'READ_ONLY';

  @ApiPropertyOptional({ description: 'A disabled user cannot sign in; its sessions end at once' })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;

  @ApiPropertyOptional({ description: 'A new password (12 to 256 characters); the user\'s sessions end', format: 'password' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  password?: string;
}

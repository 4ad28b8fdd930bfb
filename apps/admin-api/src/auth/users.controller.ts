import { Body, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AdminController, ApiConflict } from '../common/admin-controller.decorator';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { CreateUserDto, UpdateUserDto, UserDto, UserPageDto, UserQueryDto } from './dto/user.dto';
import { UsersService } from './users.service';

/** People who sign in: partner admins manage their partner's, tenant admins their account's. */
@AdminController('users', 'v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ operationId: 'listUsers', summary: 'People the caller manages (partner: its partner admins and its accounts\' users; tenant: its account\'s), by email' })
  @ApiOkResponse({ type: UserPageDto })
  list(@CurrentPrincipal() principal: Principal, @Query() query: UserQueryDto): Promise<UserPageDto> {
    return this.users.list(principal, query);
  }

  @Post()
  @ApiOperation({ operationId: 'createUser', summary: 'Create a person (audited); never a role above the caller\'s' })
  @ApiCreatedResponse({ type: UserDto })
  @ApiConflict('CONFLICT: a user with this email (any case) exists')
  create(@CurrentPrincipal() principal: Principal, @Body() dto: CreateUserDto): Promise<UserDto> {
    return this.users.create(principal, dto);
  }

  @Get(':userId')
  @ApiOperation({ operationId: 'getUser', summary: 'One person' })
  @ApiOkResponse({ type: UserDto })
  get(@CurrentPrincipal() principal: Principal, @Param('userId', ParseUUIDPipe) userId: string): Promise<UserDto> {
    return this.users.get(principal, userId);
  }

  @Patch(':userId')
  @ApiOperation({ operationId: 'updateUser', summary: 'Change name, locale, role (TENANT_ADMIN ↔ READ_ONLY), disabled or password (audited; a disable, role or password change ends its sessions)' })
  @ApiOkResponse({ type: UserDto })
  update(@CurrentPrincipal() principal: Principal, @Param('userId', ParseUUIDPipe) userId: string, @Body() dto: UpdateUserDto): Promise<UserDto> {
    return this.users.update(principal, userId, dto);
  }

  @Delete(':userId')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteUser', summary: 'Delete a person and its sessions (audited)' })
  @ApiNoContentResponse()
  async remove(@CurrentPrincipal() principal: Principal, @Param('userId', ParseUUIDPipe) userId: string): Promise<void> {
    await this.users.remove(principal, userId);
  }
}

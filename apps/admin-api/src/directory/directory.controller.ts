import { Body, Delete, Get, Param, ParseUUIDPipe, Post, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AdminController, ApiConflict } from '../common/admin-controller.decorator';
import { PageQueryDto } from '../common/dto/page-query.dto';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { DirectoryService } from './directory.service';
import { CreateGroupDto } from './dto/create-group.dto';
import { CreateMailboxDto } from './dto/create-mailbox.dto';
import { GroupDto } from './dto/group.dto';
import { GroupMembersDto } from './dto/group-members.dto';
import { GroupPageDto } from './dto/group-page.dto';
import { MailboxDto } from './dto/mailbox.dto';
import { MailboxPageDto } from './dto/mailbox-page.dto';

@AdminController('directory', 'v1/accounts/:accountId')
export class DirectoryController {
  constructor(private readonly directory: DirectoryService) {}

  @Post('mailboxes')
  @ApiOperation({ operationId: 'addMailbox', summary: 'Add a mailbox (the user level of policies)' })
  @ApiCreatedResponse({ type: MailboxDto })
  @ApiConflict('CONFLICT: the address is already a mailbox of the account')
  addMailbox(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Body() dto: CreateMailboxDto): Promise<MailboxDto> {
    return this.directory.addMailbox(principal, accountId, dto);
  }

  @Get('mailboxes')
  @ApiOperation({ operationId: 'listMailboxes', summary: 'Mailboxes of the account, by address' })
  @ApiOkResponse({ type: MailboxPageDto })
  listMailboxes(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Query() query: PageQueryDto): Promise<MailboxPageDto> {
    return this.directory.listMailboxes(principal, accountId, query);
  }

  @Delete('mailboxes/:mailboxId')
  @ApiOperation({ operationId: 'removeMailbox', summary: 'Remove a mailbox and its group memberships (its user-scope policies stay until removed)' })
  @ApiOkResponse({ type: MailboxDto })
  removeMailbox(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('mailboxId', ParseUUIDPipe) mailboxId: string,
  ): Promise<MailboxDto> {
    return this.directory.removeMailbox(principal, accountId, mailboxId);
  }

  @Post('groups')
  @ApiOperation({ operationId: 'addGroup', summary: 'Add a group of mailboxes (the group level of policies)' })
  @ApiCreatedResponse({ type: GroupDto })
  @ApiConflict('CONFLICT: a group of that name exists in the account')
  addGroup(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Body() dto: CreateGroupDto): Promise<GroupDto> {
    return this.directory.addGroup(principal, accountId, dto);
  }

  @Get('groups')
  @ApiOperation({ operationId: 'listGroups', summary: 'Groups of the account with their members, by name' })
  @ApiOkResponse({ type: GroupPageDto })
  listGroups(@CurrentPrincipal() principal: Principal, @Param('accountId', ParseUUIDPipe) accountId: string, @Query() query: PageQueryDto): Promise<GroupPageDto> {
    return this.directory.listGroups(principal, accountId, query);
  }

  @Put('groups/:groupId/members')
  @ApiOperation({ operationId: 'setGroupMembers', summary: 'Replace the members of a group' })
  @ApiOkResponse({ type: GroupDto })
  setGroupMembers(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('groupId', ParseUUIDPipe) groupId: string,
    @Body() dto: GroupMembersDto,
  ): Promise<GroupDto> {
    return this.directory.setGroupMembers(principal, accountId, groupId, dto.members);
  }

  @Delete('groups/:groupId')
  @ApiOperation({ operationId: 'removeGroup', summary: 'Remove a group (its members stay mailboxes of the account)' })
  @ApiOkResponse({ type: GroupDto })
  removeGroup(
    @CurrentPrincipal() principal: Principal,
    @Param('accountId', ParseUUIDPipe) accountId: string,
    @Param('groupId', ParseUUIDPipe) groupId: string,
  ): Promise<GroupDto> {
    return this.directory.removeGroup(principal, accountId, groupId);
  }
}

import { Body, Get, Param, Put, Query } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { AdminController, ApiConflict } from '../common/admin-controller.decorator';
import { PartnerOnly } from '../common/api-key.guard';
import { AccountPathDto } from '../common/dto/account-path.dto';
import { CurrentPrincipal, type Principal } from '../common/principal';
import { EffectivePolicyDto } from './dto/effective-policy.dto';
import { EffectivePolicyQueryDto } from './dto/effective-policy-query.dto';
import { EffectiveRetentionDto } from './dto/effective-retention.dto';
import { PartnerPolicyPathDto } from './dto/partner-policy-path.dto';
import { PolicyDto } from './dto/policy.dto';
import { PolicyPathDto } from './dto/policy-path.dto';
import { POLICY_SETTINGS_MODELS } from './dto/policy-settings.schema';
import { PutPolicyDto } from './dto/put-policy.dto';
import { PoliciesService } from './policies.service';

@AdminController('policies', 'v1')
@ApiExtraModels(...POLICY_SETTINGS_MODELS)
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @Get('accounts/:accountId/policies/effective')
  @ApiOperation({ operationId: 'getEffectivePolicy', summary: 'Effective Email Security and Data Control policy for a recipient, with per-option source and locks' })
  @ApiOkResponse({ type: EffectivePolicyDto })
  effective(@CurrentPrincipal() principal: Principal, @Param() path: AccountPathDto, @Query() query: EffectivePolicyQueryDto): Promise<EffectivePolicyDto> {
    return this.policies.effective(principal, path.accountId, query.recipient);
  }

  @Get('accounts/:accountId/retention')
  @ApiOperation({ operationId: 'getEffectiveRetention', summary: 'How long the account\'s history, quarantine, raw messages and audit log are kept (days), under the partner ceiling' })
  @ApiOkResponse({ type: EffectiveRetentionDto })
  retention(@CurrentPrincipal() principal: Principal, @Param() path: AccountPathDto): Promise<EffectiveRetentionDto> {
    return this.policies.effectiveRetention(principal, path.accountId);
  }

  @Get('accounts/:accountId/policies/:kind/:scope/:scopeId')
  @ApiOperation({ operationId: 'getPolicy', summary: 'The settings and locks stored at one scope' })
  @ApiOkResponse({ type: PolicyDto })
  get(@CurrentPrincipal() principal: Principal, @Param() path: PolicyPathDto): Promise<PolicyDto> {
    return this.policies.get(principal, path.accountId, path.kind, path.scope, path.scopeId);
  }

  @Put('accounts/:accountId/policies/:kind/:scope/:scopeId')
  @ApiOperation({ operationId: 'putPolicy', summary: 'Replace the settings and locks at account, domain, group or user scope' })
  @ApiOkResponse({ type: PolicyDto })
  @ApiConflict('OPTION_LOCKED: the partner admin locked an option the settings touch; RETENTION_ABOVE_CEILING: a retention window above the partner ceiling')
  put(@CurrentPrincipal() principal: Principal, @Param() path: PolicyPathDto, @Body() dto: PutPolicyDto): Promise<PolicyDto> {
    return this.policies.put(principal, path.accountId, path.kind, path.scope, path.scopeId, dto);
  }

  @Get('partner/policies/:kind')
  @PartnerOnly()
  @ApiOperation({ operationId: 'getPartnerPolicy', summary: "The partner's settings and locks (partner admin keys only)" })
  @ApiOkResponse({ type: PolicyDto })
  getPartner(@CurrentPrincipal() principal: Principal, @Param() path: PartnerPolicyPathDto): Promise<PolicyDto> {
    return this.policies.getPartner(principal, path.kind);
  }

  @Put('partner/policies/:kind')
  @PartnerOnly()
  @ApiOperation({ operationId: 'putPartnerPolicy', summary: 'Replace the partner-wide settings and locks (partner admin keys only); locked options win in every account' })
  @ApiOkResponse({ type: PolicyDto })
  putPartner(@CurrentPrincipal() principal: Principal, @Param() path: PartnerPolicyPathDto, @Body() dto: PutPolicyDto): Promise<PolicyDto> {
    return this.policies.putPartner(principal, path.kind, dto);
  }
}

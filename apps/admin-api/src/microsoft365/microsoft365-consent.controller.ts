import { Controller, Get, Query } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiQuery, ApiResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { ProblemDto } from '../common/dto/problem.dto';
import { ConsentResultDto } from './dto/consent-result.dto';
import { Microsoft365ApiService } from './microsoft365-api.service';

const problem = (status: number, description: string) =>
  ApiResponse({ status, description, content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDto) } } } });

/**
 * Where Microsoft sends the tenant admin's browser back after the consent page. No API key (the browser has none):
 * the HMAC-signed `state` names the account and proves Mailwarden issued the link.
 */
@Controller('v1/integrations/microsoft365')
@ApiTags('microsoft365')
@ApiExtraModels(ProblemDto)
export class Microsoft365ConsentController {
  constructor(private readonly microsoft365: Microsoft365ApiService) {}

  @Get('consent-callback')
  @ApiOperation({
    operationId: 'completeMicrosoft365Consent',
    summary: 'Admin-consent redirect target (public): checks the signed state and records the Microsoft tenant id on the account, or shows Microsoft\'s error as returned',
  })
  @ApiQuery({ name: 'state', required: true })
  @ApiQuery({ name: 'tenant', required: false })
  @ApiQuery({ name: 'admin_consent', required: false })
  @ApiQuery({ name: 'error', required: false })
  @ApiQuery({ name: 'error_description', required: false })
  @ApiOkResponse({ type: ConsentResultDto })
  @problem(400, 'INVALID_CONSENT_STATE (missing, tampered or expired state) or CONSENT_REFUSED (detail = error_description, errors[0].code = error)')
  @problem(409, 'MICROSOFT365_TENANT_CONNECTED_ELSEWHERE')
  @problem(503, 'MICROSOFT365_NOT_CONFIGURED or SECRETS_KEY_NOT_CONFIGURED')
  callback(@Query() query: Record<string, unknown>): Promise<ConsentResultDto> {
    return this.microsoft365.completeConsent(query);
  }
}

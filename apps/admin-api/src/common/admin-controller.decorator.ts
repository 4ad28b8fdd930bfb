import { applyDecorators, Controller, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiExtraModels, ApiResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { ApiKeyGuard } from './api-key.guard';
import { ProblemDto } from './dto/problem.dto';

const problem = (status: number, description: string) =>
  ApiResponse({ status, description, content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDto) } } } });

/**
 * A controller of the authenticated admin API: bearer key or session cookie (+ X-CSRF-Token on unsafe methods),
 * rate limit, and the problem answers every route may give.
 */
export function AdminController(tag: string, path: string): ClassDecorator {
  return applyDecorators(
    Controller(path),
    ApiTags(tag),
    ApiBearerAuth(),
    ApiCookieAuth('session'),
    UseGuards(ApiKeyGuard),
    ApiExtraModels(ProblemDto),
    problem(400, 'Invalid input (VALIDATION_FAILED with errors[])'),
    problem(401, 'Missing, unknown or revoked API key, or no live session'),
    problem(403, 'The key\'s or user\'s role may not do this (READ_ONLY_KEY, ROLE_NOT_ALLOWED), or a session request without its X-CSRF-Token (CSRF_TOKEN_INVALID)'),
    problem(404, 'Not found, or not visible to this key'),
    problem(429, 'Rate limit reached; see Retry-After'),
  );
}

/** A 409 answer with a problem body (documented per route). */
export const ApiConflict = (description: string) =>
  ApiResponse({ status: 409, description, content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDto) } } } });

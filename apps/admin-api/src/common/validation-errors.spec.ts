import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsInt, IsString, ValidateNested, validateSync } from 'class-validator';
import { fieldErrors } from './validation-errors';

class Inner {
  @IsString()
  clientId!: string;
}

class Outer {
  @IsInt({ each: true })
  ids!: unknown[];

  @ValidateNested()
  @Type(() => Inner)
  credentials!: Inner;
}

describe(fieldErrors.name, () => {
  it('should name the real path of each value, nested and indexed, never a word of the message', () => {
    const outer = Object.assign(new Outer(), { ids: [1, 'x'], credentials: Object.assign(new Inner(), { clientId: 7 }), extra: true });
    const errors = fieldErrors(validateSync(outer, { whitelist: true, forbidNonWhitelisted: true }));
    expect(errors.map((error) => [error.field, error.code])).toEqual([
      ['extra', 'UNKNOWN_FIELD'],
      ['ids', 'INVALID_VALUE'],
      ['credentials.clientId', 'INVALID_VALUE'],
    ]);
    expect(errors[0]!.message).toBe('property extra should not exist');
    expect(errors[1]!.message).toBe('each value in ids must be an integer number');
  });
});

import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_CONFIG } from './config.constants';

/** Makes the app's validated configuration injectable everywhere as APP_CONFIG. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: object): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] };
  }
}

import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { ApiKeyAuthenticator, type AuthenticatedPrincipal } from '@keyward/auth';

/** passport strategy `api-key`: `Authorization: Bearer kw_…`. */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(Strategy, 'api-key') {
  constructor(private readonly authenticator: ApiKeyAuthenticator) {
    super();
  }

  async validate(token: string): Promise<AuthenticatedPrincipal | false> {
    return (await this.authenticator.authenticate(token)) ?? false;
  }
}

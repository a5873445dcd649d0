import { SetMetadata } from '@nestjs/common';
import type { Role } from '@keyward/domain';

export const ROLES = 'keyward:roles';

/** The roles that may call a route; every other role gets 403. */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES, roles);

export const SEALED_OK = 'keyward:sealed-ok';

/**
 * The route accepts a credential whose MAC cannot be checked while sealed (no root key yet): only
 * the unseal routes, which can neither reveal nor change keys (credential-integrity.ts).
 */
export const SealedOk = (): MethodDecorator => SetMetadata(SEALED_OK, true);

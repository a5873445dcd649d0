import { SetMetadata } from '@nestjs/common';

export const PUBLIC_ROUTE = 'keyward:public';

/** Served without authentication (health, metrics). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_ROUTE, true);

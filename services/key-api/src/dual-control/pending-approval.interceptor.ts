import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { map, type Observable } from 'rxjs';
import type { ApprovalState } from '@keyward/domain';
import { businessNow } from '@keyward/platform';
import { approvalBody } from './approval.representation';

/** A command that became an approval request answers 202 Accepted (nothing happened yet) with the request. */
@Injectable()
export class PendingApprovalInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler<unknown>): Observable<unknown> {
    return next.handle().pipe(
      map((result) => {
        if (typeof result !== 'object' || result === null || !('pendingApproval' in result)) return result;
        context.switchToHttp().getResponse<FastifyReply>().status(202);
        return { ...result, pendingApproval: approvalBody(result.pendingApproval as ApprovalState, businessNow()) };
      }),
    );
  }
}

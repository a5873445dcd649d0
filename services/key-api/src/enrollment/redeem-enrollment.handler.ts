import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { EnrollmentService, type RedemptionClient, type Redeemed } from './enrollment.service';

/** A new principal redeems its one-time enrollment token for its own API key (no credential needed). */
export class RedeemEnrollmentCommand {
  constructor(
    readonly token: string,
    readonly client: RedemptionClient,
  ) {}
}

@CommandHandler(RedeemEnrollmentCommand)
export class RedeemEnrollmentHandler implements ICommandHandler<RedeemEnrollmentCommand, Redeemed> {
  constructor(private readonly enrollments: EnrollmentService) {}

  execute({ token, client }: RedeemEnrollmentCommand): Promise<Redeemed> {
    return this.enrollments.redeem(token, client);
  }
}

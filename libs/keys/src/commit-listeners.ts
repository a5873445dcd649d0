import { Injectable, Logger } from '@nestjs/common';
import type { Commit } from '@keyward/event-log';

export type CommitListener = (commit: Commit) => Promise<void>;

/**
 * Work that follows a commit made by this process, before the command answers (for example
 * crypto-shredding after a destruction). A failing listener is logged, never un-commits.
 */
@Injectable()
export class CommitListeners {
  private readonly logger = new Logger('commit-listeners');
  private readonly listeners: CommitListener[] = [];

  add(listener: CommitListener): void {
    this.listeners.push(listener);
  }

  async notify(commit: Commit): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(commit);
      } catch (err: unknown) {
        this.logger.error(`after commit ${commit.tenantId}:${commit.seq}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

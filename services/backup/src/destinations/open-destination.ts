import type { BackupDestinationSetting } from '@keyward/config';
import type { BackupDestination } from './destination';
import { DirectoryDestination } from './directory-destination';
import { S3Destination } from './s3-destination';

export function openDestination(setting: BackupDestinationSetting): BackupDestination {
  return setting.kind === 'directory' ? new DirectoryDestination(setting.path) : new S3Destination(setting);
}

import { runMain } from '@keyward/cli-kit';
import { keyward } from './keyward';

// The `keyward` command (bin/keyward.mjs loads this file once built).
runMain('keyward', keyward);

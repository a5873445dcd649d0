import { runMain } from '@keyward/cli-kit';
import { replay } from './replay-cli';

// `keyward replay` (the keyward command runs this file in its own process).
runMain('keyward replay', replay);

// The replay reader lives in @keyward/event-log; this path stays for bin/commands/replay.mjs and the
// benchmark's bare consumer, which load it from dist/ until they import the lib.
export { REPLAY_FETCH, replayTopic, type ReplayOptions, type ReplayProgress } from '@keyward/event-log';

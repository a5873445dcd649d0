// The one-line summaries of the commands keyward loads only when they run (their modules bring
// Kafka's and MongoDB's clients or the key hierarchy's crypto): the program's help reads them here.
export const AUDIT_SUMMARY = 'Compliance: events, verify, state at an instant, export (JSON Lines, CSV, HTML), checkpoints, usage';
export const ROOT_SUMMARY = 'Root key: split it into Shamir shares, unseal a sealed key-api, show the seal status';
export const REPLAY_SUMMARY = 'Re-run every event of the log through the projections into a scratch database; compare with the live views';

import { Logger } from '@nestjs/common';
import { asEnum, asText, child, ResultReason, Tag, type TtlvItem } from '@keyward/kmip';
import { fail, READERS, requireRole, type Call, type Payload } from '../kmip-call';

/** Interop Function (KMIP 2.1 §11.30). */
const INTEROP_BEGIN = 1;
const INTEROP_END = 2;
const INTEROP_RESET = 3;
/** The longest Interop Identifier and Log Message accepted (the OASIS cases use a few dozen characters). */
export const MAX_INTEROP_IDENTIFIER = 128;
export const MAX_LOG_MESSAGE = 1024;

const logger = new Logger('kmip');

/** A client's text as one log line: control characters (line breaks that would forge log lines) become '?'. */
// eslint-disable-next-line no-control-regex
const oneLine = (text: string): string => text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');

/**
 * Interop (KMIP 2.1 §6.1.28): a test harness marks where a test case begins and ends. Begin and End
 * are acknowledged and logged, and change nothing; Reset (return the server to the state the case
 * began in) is refused: Keyward's state is an append-only log, nothing of it is rolled back.
 */
export function interop(payload: TtlvItem | undefined, call: Call): Payload {
  requireRole(call, READERS, 'mark test cases');
  const fn = asEnum(child(payload, Tag.InteropFunction));
  const id = asText(child(payload, Tag.InteropIdentifier));
  if (fn === undefined) return fail(ResultReason.MissingData, 'Interop Function is required');
  if (id === undefined || id.length === 0) return fail(ResultReason.MissingData, 'Interop Identifier is required');
  if (id.length > MAX_INTEROP_IDENTIFIER)
    fail(ResultReason.InvalidField, `Interop Identifier is at most ${MAX_INTEROP_IDENTIFIER} characters`);
  if (fn === INTEROP_RESET) fail(ResultReason.FeatureNotSupported, 'Interop Reset is not supported: Keyward never rolls its log back');
  if (fn !== INTEROP_BEGIN && fn !== INTEROP_END) fail(ResultReason.InvalidField, `Interop Function ${fn} is not Begin, End or Reset`);
  const { tenantId, principalId } = call.principal;
  logger.log(`interop ${fn === INTEROP_BEGIN ? 'begin' : 'end'} ${oneLine(id)} (${principalId}@${tenantId}, request ${call.requestId})`);
  return [];
}

/**
 * Log (KMIP 2.1 §6.1.29): the client's Log Message in the service's log, one line with the caller
 * and the request id (control characters replaced), nothing else kept.
 */
export function logMessage(payload: TtlvItem | undefined, call: Call): Payload {
  requireRole(call, READERS, 'log messages');
  const message = asText(child(payload, Tag.LogMessage));
  if (message === undefined) return fail(ResultReason.MissingData, 'Log Message is required');
  if (message.length > MAX_LOG_MESSAGE) fail(ResultReason.InvalidField, `Log Message is at most ${MAX_LOG_MESSAGE} characters`);
  const { tenantId, principalId } = call.principal;
  logger.log(`client log (${principalId}@${tenantId}, request ${call.requestId}): ${oneLine(message)}`);
  return [];
}

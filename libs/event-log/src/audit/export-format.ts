import { eventKeyId, type AuditEvent } from './audit-event';

/** Columns of the CSV export, in order (the first line of the file). */
export const CSV_COLUMNS = [
  'tenantId',
  'seq',
  'index',
  'at',
  'type',
  'actorPrincipalId',
  'actorRole',
  'correlationId',
  'keyId',
  'commitHash',
  'data',
] as const;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, quotes doubled. A field
 * a spreadsheet would run as a formula (starting with = + - @ or a tab) is prefixed with `'`; no
 * field Keyward writes starts that way (ids, types, times, JSON objects), so none is changed today.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export const CSV_HEADER = `${CSV_COLUMNS.join(',')}\r\n`;

/** One event as a CSV record (CRLF-terminated); `data` is its JSON. */
export function csvRecord(event: AuditEvent): string {
  const fields = [
    event.tenantId,
    String(event.seq),
    String(event.index),
    event.at,
    event.type,
    event.actor.principalId,
    event.actor.role,
    event.correlationId,
    eventKeyId(event) ?? '',
    event.commitHash,
    JSON.stringify(event.data),
  ];
  return `${fields.map(csvField).join(',')}\r\n`;
}

/** One event as a JSON Lines record. */
export function jsonLine(event: AuditEvent): string {
  return `${JSON.stringify(event)}\n`;
}

/** Parses CSV text as written by csvRecord (quoted fields, doubled quotes, CRLF or LF). For tools and tests. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += c;
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

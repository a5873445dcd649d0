/** One element of the KMIP XML test-case format: a name, attributes and child elements (no text content). */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** 1-based line of the opening tag, for messages. */
  readonly line: number;
}

export class XmlSyntaxError extends Error {
  constructor(message: string, line: number) {
    super(`${message} (line ${line})`);
    this.name = 'XmlSyntaxError';
  }
}

const NAME = /[A-Za-z_][A-Za-z0-9_.-]*/y;
const SPACE = /\s*/y;
const VALUE = /\s*=\s*("([^"<]*)"|'([^'<]*)')/y;
const CLOSE = /<\/([A-Za-z_][A-Za-z0-9_.-]*)\s*>/y;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * A strict reader for the regular XML of the OASIS KMIP test cases: an optional declaration, comments,
 * nested elements with quoted attributes, and only whitespace between elements. Anything else (text
 * content, CDATA, DOCTYPE, mismatched or unclosed tags, duplicate attributes) is an error.
 */
export function readXml(source: string): XmlElement {
  let at = 0;
  const newlines: number[] = [];
  for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', i + 1)) newlines.push(i);
  const lineAt = (offset: number): number => {
    let lo = 0;
    let hi = newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (newlines[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
  const fail = (message: string, offset = at): never => {
    throw new XmlSyntaxError(message, lineAt(offset));
  };
  /** Matches a sticky pattern at the current offset (no substring copies). */
  const match = (pattern: RegExp): RegExpExecArray | null => {
    pattern.lastIndex = at;
    return pattern.exec(source);
  };
  const skipMisc = (): void => {
    for (;;) {
      const ws = match(SPACE)![0];
      at += ws.length;
      if (source.startsWith('<!--', at)) {
        const end = source.indexOf('-->', at + 4);
        if (end < 0) fail('unterminated comment');
        at = end + 3;
      } else if (source.startsWith('<?', at)) {
        const end = source.indexOf('?>', at + 2);
        if (end < 0) fail('unterminated processing instruction');
        at = end + 2;
      } else return;
    }
  };
  const decode = (raw: string, offset: number): string =>
    raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);|&/g, (whole, entity: string | undefined) => {
      if (entity === undefined) return fail('bare & in attribute value', offset);
      if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
      if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
      return ENTITIES[entity] ?? fail(`unknown entity ${whole}`, offset);
    });
  const element = (): XmlElement => {
    const start = at;
    if (source[at] !== '<') fail('expected an element');
    at += 1;
    const name = match(NAME)?.[0] ?? fail('expected an element name');
    at += name.length;
    const attributes: Record<string, string> = {};
    for (;;) {
      const ws = match(SPACE)![0];
      at += ws.length;
      if (source.startsWith('/>', at)) {
        at += 2;
        return { name, attributes, children: [], line: lineAt(start) };
      }
      if (source[at] === '>') {
        at += 1;
        break;
      }
      if (ws.length === 0) fail(`expected whitespace, '>' or '/>' in <${name}>`);
      const attr = match(NAME)?.[0] ?? fail(`bad attribute in <${name}>`);
      at += attr.length;
      const quoted = match(VALUE) ?? fail(`attribute ${attr} needs a quoted value`);
      if (Object.hasOwn(attributes, attr)) fail(`duplicate attribute ${attr} in <${name}>`);
      attributes[attr] = decode(quoted[2] ?? quoted[3] ?? '', at);
      at += quoted[0].length;
    }
    const children: XmlElement[] = [];
    for (;;) {
      skipMisc();
      if (at >= source.length) fail(`<${name}> is not closed`, start);
      if (source.startsWith('</', at)) {
        const close = match(CLOSE) ?? fail('bad closing tag');
        if (close[1] !== name) fail(`</${close[1]}> closes <${name}>`);
        at += close[0].length;
        return { name, attributes, children, line: lineAt(start) };
      }
      if (source[at] !== '<' || source.startsWith('<!', at)) fail(`text, CDATA or DOCTYPE inside <${name}>`);
      children.push(element());
    }
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (at !== source.length) fail('content after the root element');
  return root;
}

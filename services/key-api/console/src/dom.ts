/** Builds DOM nodes without HTML strings: text is always text (textContent), never markup. */
export type Child = Node | string | number | null | undefined | false | readonly Child[];
type Listener = (event: Event) => void;
export type Attrs = Record<string, string | number | boolean | Listener | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, '').toLowerCase(), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child as readonly Child[]);
    else if (child instanceof Node) parent.appendChild(child);
    else if (typeof child === 'string' || typeof child === 'number') parent.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces the children of `parent`. */
export function mount(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing`);
  return el as T;
}

/** A date as the browser's locale shows it, in a <time> element carrying the ISO form. */
export function when(iso: string | null | undefined): Node | string {
  if (!iso) return '—';
  return h('time', { datetime: iso }, new Date(iso).toLocaleString());
}

export function notice(kind: 'ok' | 'bad' | 'warn', ...text: Child[]): HTMLElement {
  return h('div', { class: `notice ${kind}`, role: kind === 'bad' ? 'alert' : 'status' }, ...text);
}

/** A <select> of options, the current one selected; '' stands for "any". */
export function select(name: string, label: string, options: readonly string[], current: string | undefined): HTMLElement {
  return h(
    'label',
    {},
    label,
    h('select', { name }, h('option', { value: '' }, 'Any'), ...options.map((o) => h('option', { value: o, selected: o === current }, o))),
  );
}

/** A text field of a form ('' when absent or a file). */
export function field(data: FormData, name: string): string {
  const value = data.get(name);
  return typeof value === 'string' ? value : '';
}

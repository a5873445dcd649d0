import type { OptionSpecs } from './options';

/** A titled block of options in a verb's help. */
export interface HelpSection {
  readonly title: string;
  readonly options: OptionSpecs;
}

/** `  --name VALUE    description` lines. */
export function optionLines(options: OptionSpecs): string[] {
  return Object.entries(options).map(([name, o]) => {
    const left = `  --${name}${o.value === undefined ? '' : ` ${o.value}`}`;
    return `${left.padEnd(30)}${o.description ?? ''}`;
  });
}

/** The help of a verb, rendered from its definition. */
export function verbHelp(
  path: string,
  verb: { readonly summary: string; readonly args?: string; readonly details?: string },
  sections: readonly HelpSection[],
): string {
  const lines = [`Usage: ${path}${verb.args === undefined ? '' : ` ${verb.args}`} [options]`, '', verb.summary];
  if (verb.details !== undefined) lines.push('', verb.details);
  for (const section of sections) {
    if (Object.keys(section.options).length > 0) lines.push('', `${section.title}:`, ...optionLines(section.options));
  }
  return lines.join('\n');
}

/** The help of a group of verbs: one line per verb. */
export function groupHelp(path: string, summary: string, verbs: Readonly<Record<string, { readonly summary: string }>>): string {
  const width = Math.max(...Object.keys(verbs).map((v) => v.length)) + 4;
  return [
    `Usage: ${path} <verb> [options]`,
    '',
    summary,
    '',
    ...Object.entries(verbs).map(([name, verb]) => `  ${name.padEnd(width)}${verb.summary}`),
    '',
    `Run "${path} <verb> --help" for the options of a verb.`,
  ].join('\n');
}

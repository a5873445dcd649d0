// Generated sections of hand-written documents: the text between
//   <!-- <name>:begin -->  and  <!-- <name>:end -->
// is replaced as a whole; everything around it is left as it is.

/** The text with the section `name` replaced by `content`; throws when the markers are missing. */
export function replaceBetweenMarkers(text, name, content) {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`no ${begin} ... ${end} section`);
  return `${text.slice(0, from + begin.length)}\n${content.trim()}\n${text.slice(to)}`;
}

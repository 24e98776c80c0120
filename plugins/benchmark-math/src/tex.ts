// TeX reading shared by extraction and normalisation.

/** The contents of the brace group opening at `open` (text[open] === '{'), or undefined when it never closes. */
export function readBraceGroup(text: string, open: number): { content: string; end: number } | undefined {
  let depth = 0;
  for (let index = open; index < text.length; index++) {
    const char = text[index];
    if (char === '\\' && index + 1 < text.length) {
      // An escaped brace (\{ or \}) is text, not grouping.
      if (text[index + 1] === '{' || text[index + 1] === '}') index++;
      continue;
    }
    if (char === '{') depth++;
    else if (char === '}') {
      depth--;
      if (depth === 0) return { content: text.slice(open + 1, index), end: index + 1 };
    }
  }
  return undefined;
}

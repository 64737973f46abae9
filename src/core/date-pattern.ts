/**
 * Java and Joda date patterns (`yyyy-MM-dd HH:mm:ss.SSS`, `'T'` quoted text) cut into runs of one
 * letter and literal text: what the Elasticsearch API's `format` and the pipeline's `%{+…}` read.
 */

export interface PatternPart {
  /** The pattern letter of a run; '' for literal text. */
  letter: string;
  /** How many times the letter repeats (its width); 0 for literal text. */
  count: number;
  literal?: string;
}

/** A Java date pattern (`yyyy-MM-dd HH:mm:ss.SSS`) cut into runs of letters and literals. */
export function patternParts(pattern: string): PatternPart[] {
  const out: PatternPart[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      if (end === i + 1) {
        out.push({ letter: '', count: 0, literal: "'" });
        i += 2;
        continue;
      }
      const lit = pattern.slice(i + 1, end < 0 ? pattern.length : end);
      out.push({ letter: '', count: 0, literal: lit });
      i = end < 0 ? pattern.length : end + 1;
    } else if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (pattern[j] === c) j++;
      out.push({ letter: c, count: j - i });
      i = j;
    } else {
      out.push({ letter: '', count: 0, literal: c });
      i++;
    }
  }
  return out;
}

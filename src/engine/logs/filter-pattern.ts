/**
 * CloudWatch Logs filter patterns for unstructured events, compiled to a predicate.
 *
 * Supported, case-sensitive, matching anywhere in the message:
 *   ERROR               events containing the term
 *   ERROR timeout       events containing every term
 *   "Out of memory"     events containing the exact phrase (\" and \\ escape inside quotes)
 *   ?ERROR ?WARN        events containing at least one of the ?-terms
 *   ERROR -retrying     events containing ERROR but not "retrying"
 *   %ERR(OR)?\s+\d+%    events matching the regular expression between the percent signs
 * An empty (or blank) pattern matches every event. Prefixes combine with quoted phrases
 * and regexes (?"a b", -%x+%). JSON ({ $.x = … }) and space-delimited ([a, b]) patterns
 * are refused with an explanation.
 */
import { AwsError } from '../../server/errors.ts';

export type EventPredicate = (message: string) => boolean;

type Term = { kind: 'text'; text: string } | { kind: 'regex'; regex: RegExp };

const invalid = (message: string) => new AwsError('InvalidParameterException', message, 400);

/** Compiles a filter pattern; throws InvalidParameterException for what it cannot read. */
export function compileFilterPattern(pattern: string | undefined): EventPredicate {
  const source = (pattern ?? '').trim();
  if (!source) return () => true;
  if (source.startsWith('{') || source.startsWith('[')) {
    throw invalid(
      `Invalid filter pattern '${source}': Kiln supports term patterns (terms, "quoted phrases", ?alternatives, -exclusions and %regex%); JSON ({ ... }) and space-delimited ([ ... ]) patterns are not supported yet.`,
    );
  }
  const required: Term[] = [];
  const optional: Term[] = [];
  const excluded: Term[] = [];
  let i = 0;
  while (i < source.length) {
    if (/\s/.test(source[i]!)) {
      i++;
      continue;
    }
    let bucket = required;
    if (source[i] === '?' || source[i] === '-') {
      bucket = source[i] === '?' ? optional : excluded;
      i++;
      if (i >= source.length || /\s/.test(source[i]!)) throw invalid(`Invalid filter pattern '${source}': '${source[i - 1]}' must be followed by a term.`);
    }
    let term: Term;
    if (source[i] === '"') {
      let text = '';
      i++;
      for (;;) {
        if (i >= source.length) throw invalid(`Invalid filter pattern '${source}': unterminated quoted phrase.`);
        const c = source[i]!;
        if (c === '\\' && i + 1 < source.length) {
          text += source[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          text += c;
          i++;
        }
      }
      term = { kind: 'text', text };
    } else if (source[i] === '%') {
      const end = source.indexOf('%', i + 1);
      if (end < 0) throw invalid(`Invalid filter pattern '${source}': unterminated regular expression (missing closing %).`);
      const body = source.slice(i + 1, end);
      i = end + 1;
      try {
        term = { kind: 'regex', regex: new RegExp(body) };
      } catch (e) {
        throw invalid(`Invalid filter pattern '${source}': invalid regular expression %${body}%: ${(e as Error).message}`);
      }
    } else {
      const start = i;
      while (i < source.length && !/\s/.test(source[i]!)) i++;
      term = { kind: 'text', text: source.slice(start, i) };
    }
    bucket.push(term);
  }
  const hit = (t: Term, message: string) => (t.kind === 'text' ? message.includes(t.text) : t.regex.test(message));
  return (message) =>
    required.every((t) => hit(t, message)) &&
    (optional.length === 0 || optional.some((t) => hit(t, message))) &&
    !excluded.some((t) => hit(t, message));
}

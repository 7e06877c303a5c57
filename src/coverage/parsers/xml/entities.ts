/**
 * Resolves the references XML itself defines: the five predefined entities and numeric character
 * references. Nothing else is ever expanded — documents cannot declare entities here (the scanner
 * rejects internal DTD subsets that try), which is what keeps billion-laughs and XXE inert.
 */

const PREDEFINED: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
};

/** Thrown with the index (in the decoded string) of the reference that could not be resolved. */
export class EntityError extends Error {
  constructor(
    readonly index: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** Replaces references in `raw`; the caller only calls this when `raw` contains '&'. */
export function decodeReferences(raw: string): string {
  let out = '';
  let last = 0;
  let amp = raw.indexOf('&');
  while (amp >= 0) {
    const semi = raw.indexOf(';', amp + 1);
    // Longest legal reference is "&#x10FFFF;"; names of the predefined ones are shorter.
    if (semi < 0 || semi - amp > 12) throw new EntityError(amp, "unterminated reference after '&'");
    const body = raw.slice(amp + 1, semi);
    out += raw.slice(last, amp) + resolve(body, amp);
    last = semi + 1;
    amp = raw.indexOf('&', last);
  }
  return out + raw.slice(last);
}

function resolve(body: string, index: number): string {
  const named = PREDEFINED[body];
  if (named !== undefined && Object.prototype.hasOwnProperty.call(PREDEFINED, body)) return named;
  if (body.charCodeAt(0) === 35 /* # */) {
    const hex = body.charCodeAt(1) === 120; /* x */
    const digits = hex ? body.slice(2) : body.slice(1);
    const valid = hex ? /^[0-9a-fA-F]{1,6}$/.test(digits) : /^[0-9]{1,7}$/.test(digits);
    const code = valid ? parseInt(digits, hex ? 16 : 10) : NaN;
    if (!isXmlChar(code)) throw new EntityError(index, `invalid character reference '&${body};'`);
    return String.fromCodePoint(code);
  }
  throw new EntityError(index, `undefined entity '&${body};' (only XML's predefined entities are allowed)`);
}

function isXmlChar(c: number): boolean {
  return (
    c === 0x9 ||
    c === 0xa ||
    c === 0xd ||
    (c >= 0x20 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd) ||
    (c >= 0x10000 && c <= 0x10ffff)
  );
}

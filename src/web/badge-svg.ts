import { createHash } from 'node:crypto';

/**
 * Shields.io-style flat badges ("coverage | 87%"), measured as shields measures them: the
 * advance widths of Verdana at 11px, from anafanafo's table (MIT, github.com/metabolize/anafanafo,
 * data/verdana-11px-normal.json) for printable ASCII; any other character counts as an "m",
 * as anafanafo guesses. The same colour scale serves the SVG and shields' endpoint JSON.
 */

// Code points 32 (space) to 126 (~), in order.
const VERDANA_11 = [
  3.87, 4.33, 5.05, 9, 6.99, 11.84, 7.99, 2.95, 5, 5, 6.99, 9, 4, 5, 4, 5, 6.99, 6.99, 6.99, 6.99, 6.99, 6.99, 6.99, 6.99, 6.99, 6.99, 5, 5, 9, 9, 9, 6, 11, 7.52,
  7.54, 7.68, 8.48, 6.96, 6.32, 8.53, 8.27, 4.63, 5, 7.62, 6.12, 9.27, 8.23, 8.66, 6.63, 8.66, 7.65, 7.52, 6.78, 8.05, 7.52, 10.88, 7.54, 6.77, 7.54, 5, 5, 5, 9,
  6.99, 6.99, 6.61, 6.85, 5.73, 6.85, 6.55, 3.87, 6.85, 6.96, 3.02, 3.79, 6.51, 3.02, 10.7, 6.96, 6.68, 6.85, 6.85, 4.69, 5.73, 4.33, 6.96, 6.51, 9, 6.51, 6.51,
  5.78, 6.98, 5, 6.98, 9,
] as const;
const WIDTH_OF_M = VERDANA_11['m'.charCodeAt(0) - 32];

/** The width of `text` in Verdana 11px, as anafanafo measures it. */
export function textWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    // Control characters take no room; everything outside the table is guessed as an "m".
    if (code < 32 || code === 127) continue;
    width += code <= 126 ? VERDANA_11[code - 32]! : WIDTH_OF_M;
  }
  return width;
}

/** Shields' rounding: down to a whole pixel, then up to an odd one, which centres text on the pixel grid. */
function preferredWidth(text: string): number {
  const w = Math.floor(textWidth(text));
  return w % 2 === 0 ? w + 1 : w;
}

/** The scale, once: [lower bound in %, shields colour name, hex]; the first whose bound the coverage reaches. */
export const COVERAGE_COLOURS = [
  [90, 'green', '#97ca00'],
  [80, 'yellowgreen', '#a4a61d'],
  [70, 'yellow', '#dfb317'],
  [50, 'orange', '#fe7d37'],
  [0, 'red', '#e05d44'],
] as const;
export const UNKNOWN_COLOUR = ['lightgrey', '#9f9f9f'] as const;

export interface BadgeContent {
  label: string;
  message: string;
  /** Shields' colour name (endpoint JSON). */
  color: string;
  hex: string;
}

/** A badge's text and colour: the coverage (a percentage) floored to a whole number, or "unknown". */
export function coverageBadge(coverage: number | null, label = 'coverage'): BadgeContent {
  if (coverage === null || !Number.isFinite(coverage)) return { label, message: 'unknown', color: UNKNOWN_COLOUR[0], hex: UNKNOWN_COLOUR[1] };
  const [, color, hex] = COVERAGE_COLOURS.find(([min]) => coverage >= min) ?? COVERAGE_COLOURS[COVERAGE_COLOURS.length - 1];
  // Floored, as Codecov does: 99.9 is not "100%".
  return { label, message: `${Math.floor(coverage)}%`, color, hex };
}

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

/** The flat badge as shields renders it: label on grey, message on the colour, shadowed white text. */
export function renderBadgeSvg(b: BadgeContent): string {
  const labelWidth = preferredWidth(b.label);
  const messageWidth = preferredWidth(b.message);
  const left = labelWidth + 10;
  const right = messageWidth + 10;
  const width = left + right;
  const label = escapeXml(b.label);
  const message = escapeXml(b.message);
  const title = `${label}: ${message}`;
  const text = (x: number, length: number, value: string) =>
    `<text aria-hidden="true" x="${x}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)" textLength="${length}">${value}</text>` +
    `<text x="${x}" y="140" transform="scale(.1)" fill="#fff" textLength="${length}">${value}</text>`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="20" role="img" aria-label="${title}"><title>${title}</title>` +
    `<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>` +
    `<clipPath id="r"><rect width="${width}" height="20" rx="3" fill="#fff"/></clipPath>` +
    `<g clip-path="url(#r)"><rect width="${left}" height="20" fill="#555"/><rect x="${left}" width="${right}" height="20" fill="${b.hex}"/><rect width="${width}" height="20" fill="url(#s)"/></g>` +
    `<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="110">` +
    text(left * 5, labelWidth * 10, label) +
    text(left * 10 + right * 5, messageWidth * 10, message) +
    `</g></svg>`
  );
}

/** A strong ETag of the bytes sent. */
export function strongEtag(body: string): string {
  return `"${createHash('sha256').update(body, 'utf8').digest('base64url').slice(0, 27)}"`;
}

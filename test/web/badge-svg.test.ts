/** The badge's text, widths and colours, as shields renders its flat style. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COVERAGE_COLOURS, coverageBadge, renderBadgeSvg, strongEtag, textWidth } from '../../src/web/badge-svg';

test('widths are Verdana 11px advances (anafanafo), other characters as an "m"', () => {
  // c o v e r a g e: 5.73 + 6.68 + 6.51 + 6.55 + 4.69 + 6.61 + 6.85 + 6.55
  assert.equal(Math.round(textWidth('coverage') * 100), 5017);
  assert.equal(textWidth('87%'), 6.99 * 2 + 11.84);
  assert.equal(textWidth('é'), textWidth('m'));
  assert.equal(textWidth('a\u0000b'), textWidth('ab'));
});

test('colours by coverage: red < 50 <= orange < 70 <= yellow < 80 <= yellowgreen < 90 <= green; unknown is grey', () => {
  const cases: [number | null, string, string][] = [
    [0, 'red', '0%'],
    [49.99, 'red', '49%'],
    [50, 'orange', '50%'],
    [69.9, 'orange', '69%'],
    [70, 'yellow', '70%'],
    [80, 'yellowgreen', '80%'],
    [89.99999, 'yellowgreen', '89%'],
    [90, 'green', '90%'],
    [99.9, 'green', '99%'],
    [100, 'green', '100%'],
    [null, 'lightgrey', 'unknown'],
  ];
  for (const [coverage, color, message] of cases) {
    const b = coverageBadge(coverage);
    assert.equal(b.color, color, `${coverage}`);
    assert.equal(b.message, message, `${coverage}`);
  }
  assert.equal(COVERAGE_COLOURS.length, 5);
});

test('the SVG: sized by its text, accessible, escaped, coloured', () => {
  const svg = renderBadgeSvg(coverageBadge(87.5));
  // label 50.17 -> 51 (odd), message "87%" 25.82 -> 25; each with 5 px either side.
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="96" height="20" role="img" aria-label="coverage: 87%">/);
  assert.match(svg, /<title>coverage: 87%<\/title>/);
  assert.match(svg, /<rect width="61" height="20" fill="#555"\/><rect x="61" width="35" height="20" fill="#a4a61d"\/>/);
  assert.match(svg, /textLength="510">coverage<\/text>/);
  assert.match(svg, /textLength="250">87%<\/text>/);
  const hostile = renderBadgeSvg(coverageBadge(12, '<script>&"'));
  assert.ok(!hostile.includes('<script>'));
  assert.match(hostile, /&lt;script&gt;&amp;&quot;/);
  assert.match(renderBadgeSvg(coverageBadge(null)), /fill="#9f9f9f"/);
});

test('ETags are strong and follow the content', () => {
  const a = strongEtag(renderBadgeSvg(coverageBadge(10)));
  assert.match(a, /^"[A-Za-z0-9_-]{27}"$/);
  assert.equal(a, strongEtag(renderBadgeSvg(coverageBadge(10.4))));
  assert.notEqual(a, strongEtag(renderBadgeSvg(coverageBadge(11))));
});

/**
 * The pure part of carryforward: which ancestor sessions a commit carries, the ids they get (the
 * same whatever was uploaded first), renumbering a carried part, and which carried sessions a
 * real upload replaces. Also: reports with carried sessions serialize and read back, and reports
 * without them keep their bytes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  carriedPart,
  everyFlagFound,
  lacksCarryforwardFlag,
  planCarryforward,
  replacedCarried,
  uploadedFlags,
  type AncestorSessions,
} from '../../../src/coverage/carryforward';
import { filterSessions, mergeReports } from '../../../src/coverage/merge';
import { CoverageReport, type Session } from '../../../src/coverage/report';
import { FileCoverage } from '../../../src/coverage/file-coverage';
import { readReport, serializeReport } from '../../../src/coverage/report-format';
import { CARRIED_SESSION_BASE } from '../../../src/vocabulary';

const PARENT = 'a'.repeat(40);
const GRANDPARENT = 'b'.repeat(40);
const ORIGIN = 'c'.repeat(40);

const session = (id: number, flags: string[], extra: Partial<Session> = {}): Session => ({ id, flags, type: 'uploaded', name: `s${id}`, ...extra });

const ancestors: AncestorSessions[] = [
  { sha: PARENT, distance: 1, sessions: [session(0, ['unit']), session(1, ['integration']), session(3, ['integration'])] },
  { sha: GRANDPARENT, distance: 2, sessions: [session(0, ['e2e']), session(2, ['unit'])] },
];
const cf = ['unit', 'integration', 'e2e'];

function plan(uploaded: string[]) {
  return planCarryforward({ carryforwardFlags: cf, uploadedFlags: new Set(uploaded), ancestors, firstId: CARRIED_SESSION_BASE });
}

describe('planCarryforward', () => {
  test('carries each missing flag from the nearest ancestor that has it, marked with its source', () => {
    const carried = plan(['unit']);
    assert.deepEqual(
      carried.map((c) => [c.from, c.sourceId, c.session.flags, c.session.type, c.session.carriedFrom]),
      [
        [PARENT, 1, ['integration'], 'carriedforward', PARENT],
        [PARENT, 3, ['integration'], 'carriedforward', PARENT],
        [GRANDPARENT, 0, ['e2e'], 'carriedforward', GRANDPARENT],
      ],
    );
    // The grandparent's unit session is not carried: unit was uploaded (and the parent has it nearer anyway).
    assert.ok(!carried.some((c) => c.session.flags?.includes('unit')));
    assert.equal(carried[0]!.session.name, 's1', 'the rest of the metadata is the source session’s');
  });

  test('ids come from the candidates of every carryforward flag, so they do not depend on what was uploaded', () => {
    // Candidates in (distance, source id) order: parent 0 (unit), 1, 3 (integration); grandparent 0 (e2e).
    const idsBy = (uploaded: string[]) => new Map(plan(uploaded).map((c) => [`${c.from}:${c.sourceId}`, c.session.id]));
    const none = idsBy([]);
    assert.deepEqual([...none.values()], [0, 1, 2, 3].map((i) => CARRIED_SESSION_BASE + i));
    for (const uploaded of [['unit'], ['integration'], ['e2e'], ['unit', 'e2e']]) {
      for (const [key, id] of idsBy(uploaded)) assert.equal(id, none.get(key), `${key} keeps its id when ${uploaded.join('+')} was uploaded`);
    }
    assert.deepEqual(plan(cf), [], 'nothing to carry when every flag was uploaded');
  });

  test('a session carried by the ancestor keeps its origin, and a session with an uploaded flag is not carried', () => {
    const carried = planCarryforward({
      carryforwardFlags: ['integration'],
      uploadedFlags: new Set(['unit']),
      ancestors: [
        {
          sha: PARENT,
          distance: 1,
          sessions: [
            session(CARRIED_SESSION_BASE, ['integration'], { type: 'carriedforward', carriedFrom: ORIGIN }),
            session(4, ['integration', 'unit']),
          ],
        },
      ],
      firstId: CARRIED_SESSION_BASE,
    });
    // Session 4 is a candidate (rank 0, by source id) but unit was uploaded; the carried one is rank 1.
    assert.deepEqual(
      carried.map((c) => [c.sourceId, c.session.id, c.session.carriedFrom]),
      [[CARRIED_SESSION_BASE, CARRIED_SESSION_BASE + 1, ORIGIN]],
    );
  });

  test('a flag no ancestor has carries nothing; non-carryforward flags are never looked at', () => {
    const carried = planCarryforward({ carryforwardFlags: ['perf'], uploadedFlags: new Set(), ancestors, firstId: CARRIED_SESSION_BASE });
    assert.deepEqual(carried, []);
    assert.equal(lacksCarryforwardFlag(['unit'], new Set(['unit'])), false);
    assert.equal(lacksCarryforwardFlag(['unit', 'e2e'], new Set(['unit'])), true);
    assert.equal(everyFlagFound(['unit', 'integration'], ancestors.slice(0, 1)), true);
    assert.equal(everyFlagFound(['e2e'], ancestors.slice(0, 1)), false);
  });
});

describe('carried parts and replacement', () => {
  const parent = new CoverageReport(
    [
      FileCoverage.fromEntries('src/a.ts', [
        [1, [{ sessionId: 0, value: 1 }, { sessionId: 1, value: 0 }, { sessionId: 3, value: 2 }]],
        [2, [{ sessionId: 1, value: '1/2', missingBranches: ['b1'] }]],
      ]),
      FileCoverage.fromEntries('src/only-unit.ts', [[5, [{ sessionId: 0, value: 7 }]]]),
    ],
    [session(0, ['unit']), session(1, ['integration']), session(3, ['integration'])],
  );

  test('the carried part is the ancestor restricted to the carried sessions, under their new ids', () => {
    const carried = planCarryforward({
      carryforwardFlags: ['unit', 'integration'],
      uploadedFlags: new Set(['unit']),
      ancestors: [{ sha: PARENT, distance: 1, sessions: parent.sessions }],
      firstId: CARRIED_SESSION_BASE,
    });
    const part = carriedPart(parent, carried);
    const onlyIntegration = filterSessions(parent, (s) => s.flags?.includes('integration') ?? false);
    assert.deepEqual(part.paths(), onlyIntegration.paths());
    const a = part.file('src/a.ts')!;
    assert.deepEqual([...a.sessionIds], [CARRIED_SESSION_BASE + 1, CARRIED_SESSION_BASE + 2, CARRIED_SESSION_BASE + 1]);
    for (let i = 0; i < a.lineCount; i++) assert.deepEqual(a.value(i), onlyIntegration.file('src/a.ts')!.value(i));
    assert.deepEqual(a.entries(1)[0]!.missingBranches, ['b1'], 'extras travel with their entries');

    // Merged with the child's own upload, serialized and read back: the same report.
    const child = new CoverageReport([FileCoverage.fromEntries('src/a.ts', [[1, [{ sessionId: 0, value: 0 }]]])], [session(0, ['unit'])]);
    const merged = mergeReports([child, part]);
    const bytes = serializeReport(merged);
    assert.deepEqual(Buffer.from(serializeReport(readReport(bytes))), Buffer.from(bytes));
    const back = readReport(bytes);
    assert.deepEqual(
      back.sessions.map((s) => [s.id, s.type, s.carriedFrom]),
      [
        [0, 'uploaded', undefined],
        [CARRIED_SESSION_BASE + 1, 'carriedforward', PARENT],
        [CARRIED_SESSION_BASE + 2, 'carriedforward', PARENT],
      ],
    );
    assert.deepEqual(uploadedFlags(back.sessions), new Set(['unit']), 'carried sessions do not count as uploaded');

    // A real integration upload replaces both carried sessions, and only those.
    const replaced = replacedCarried(back.sessions, new Set(['integration']));
    assert.deepEqual([...replaced], [CARRIED_SESSION_BASE + 1, CARRIED_SESSION_BASE + 2]);
    assert.deepEqual(replacedCarried(back.sessions, new Set(['unit'])), new Set(), 'an uploaded session is never "replaced"');
    assert.deepEqual(
      Buffer.from(serializeReport(filterSessions(back, (s) => !replaced.has(s.id)))),
      Buffer.from(serializeReport(child)),
      'without the carried sessions the report is the child’s own, byte for byte',
    );
  });

  test('a report without carried sessions serializes without any carryforward field', () => {
    const text = Buffer.from(serializeReport(parent)).toString('latin1');
    assert.ok(!text.includes('carriedFrom'));
  });
});

import type { Attempt, LogSection, RequestItem } from '../activity';
import { burstSummary, journeyOf } from './request-log';
import { timelineOf } from './timeline';

const T0 = 1_000_000;

function request(
  id: number,
  role: RequestItem['role'],
  attempts: Partial<Attempt>[],
  extra: Partial<RequestItem> = {},
) {
  return {
    type: 'request',
    id,
    group: 1,
    role,
    method: role === 'refresh' ? 'POST' : 'GET',
    url: role === 'refresh' ? '/refresh' : '/api/restricted',
    askedAt: T0,
    heldBeforeSend: false,
    attempts: attempts.map((a) => ({ sentAt: T0, endedAt: null, status: null, withToken: role === 'api', ...a })),
    settledAt: null,
    outcome: null,
    detail: '',
    ...extra,
  } satisfies RequestItem;
}

// Two requests answered 401 at +10 ms; the refresh ran from +12 to +30; both replayed and answered by +40.
const burst: LogSection = {
  id: 1,
  startedAt: T0,
  burst: { size: 2, settled: true },
  items: [
    request(
      2,
      'api',
      [
        { sentAt: T0, endedAt: T0 + 10, status: 401 },
        { sentAt: T0 + 31, endedAt: T0 + 38, status: 200 },
      ],
      { settledAt: T0 + 38, outcome: 'ok' },
    ),
    request(
      3,
      'api',
      [
        { sentAt: T0 + 1, endedAt: T0 + 10, status: 401 },
        { sentAt: T0 + 31, endedAt: T0 + 40, status: 200 },
      ],
      { askedAt: T0 + 1, settledAt: T0 + 40, outcome: 'ok' },
    ),
    request(4, 'refresh', [{ sentAt: T0 + 12, endedAt: T0 + 30, status: 200 }], {
      askedAt: T0 + 12,
      settledAt: T0 + 30,
      outcome: 'ok',
    }),
  ],
};

describe('timeline and log of a burst', () => {
  it('draws each request through sent, 401, held, replayed, answered, and the refresh as its own bar', () => {
    const model = timelineOf(burst, T0 + 50);
    expect(model.rows.map((row) => [row.kind, row.label, row.sequence.join(' ')])).toEqual([
      ['refresh', 'refresh', 'refresh answered'],
      ['request', '#1', 'sent 401 held replayed answered'],
      ['request', '#2', 'sent 401 held replayed answered'],
    ]);
    expect(model.rows[1]!.phases).toEqual([
      { phase: 'sent', from: 0, to: 10 },
      { phase: 'held', from: 10, to: 31 },
      { phase: 'replayed', from: 31, to: 38 },
    ]);
    expect(model).toMatchObject({ span: 40, newTokenAt: 30, held: 2, refreshes: 1, ok: 2 });
  });

  it('tells a request held before it was sent from one that was replayed', () => {
    const late = request(5, 'api', [{ sentAt: T0 + 31, endedAt: T0 + 35, status: 200 }], {
      heldBeforeSend: true,
      settledAt: T0 + 35,
      outcome: 'ok',
    });
    expect(journeyOf(late)).toBe('held → 200');
    expect(journeyOf(burst.items[0] as RequestItem)).toBe('401 → held → replayed → 200');
    expect(journeyOf(request(6, 'api', [{ endedAt: T0 + 3, status: 0 }], { outcome: 'failed' }))).toBe('network error');
    expect(journeyOf(request(7, 'api', [{ endedAt: T0 + 3, status: 401 }]))).toBe('401 → held');
    expect(journeyOf(request(8, 'api', [{ endedAt: T0 + 3, status: 401 }], { outcome: 'failed' }))).toBe(
      '401 → held → failed: no new token',
    );
  });

  it('sums a burst up as "N ok, M failed" first, then what was held and how many refreshes ran', () => {
    const requests = burst.items.filter((item): item is RequestItem => item.type === 'request' && item.role === 'api');
    expect(burstSummary(requests, burst)).toBe('2 ok, 0 failed · 2 held, 1 refresh');
  });
});

import { HttpErrorResponse, HttpHeaders } from '@angular/common/http';
import { TimeoutError } from 'rxjs';

import { JotError } from './errors';
import { refreshFailureCode } from './refresh-call';

const answered = (status: number, headers: Record<string, string> = {}) =>
  new HttpErrorResponse({ status, headers: new HttpHeaders(headers) });

describe('refreshFailureCode', () => {
  it.each([
    ['a network error (status 0)', answered(0)],
    ['a 500', answered(500)],
    ['a 503', answered(503)],
    ['a 408', answered(408)],
    ['a 429 with Retry-After', answered(429, { 'Retry-After': '2' })],
    ['no answer in time', new TimeoutError()],
  ])('calls %s transient: the session is kept', (_what, error) => {
    expect(refreshFailureCode(error)).toBe('refresh-unavailable');
  });

  it.each([
    ['a 401', answered(401)],
    ['a 400', answered(400)],
    ['a 403', answered(403)],
    ['anything else thrown', new Error('boom')],
  ])('calls %s a rejection: the session ends', (_what, error) => {
    expect(refreshFailureCode(error)).toBe('refresh-rejected');
  });

  it('keeps the code of a JotError (an unusable answer is refresh-invalid)', () => {
    expect(refreshFailureCode(new JotError('refresh-invalid', ''))).toBe('refresh-invalid');
  });
});

import { ChangeDetectionStrategy, Component } from '@angular/core';

import { ApiDataCard } from '../restricted/api-data-card';
import { BurstCard } from '../restricted/burst-card';
import { ForeignCard } from '../restricted/foreign-card';
import { RequestLog } from '../restricted/request-log';
import { SessionCard } from '../restricted/session-card';
import { Timeline } from '../restricted/timeline';

/** The page that needs a token: the session, the API's data, the burst with its timeline, and the log. */
@Component({
  selector: 'app-restricted',
  imports: [ApiDataCard, BurstCard, ForeignCard, RequestLog, SessionCard, Timeline],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="page-head">
      <h1>Restricted</h1>
      <p class="muted">Everything here needs a valid access token.</p>
    </div>
    <div class="grid grid-2">
      <app-session-card />
      <app-burst-card />
    </div>
    <app-timeline />
    <div class="grid grid-2">
      <app-api-data-card />
      <app-foreign-card />
    </div>
    <app-request-log />
  `,
})
export class Restricted {}

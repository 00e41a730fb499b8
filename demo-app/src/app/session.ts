import { Injectable, computed, inject } from '@angular/core';
import { JotAuth } from 'ngx-jot';

import type { DemoClaims } from './demo-claims';
import { Clock } from './clock';

/** What the pages show of the session, derived from `JotAuth`'s signals. */
@Injectable({ providedIn: 'root' })
export class SessionView {
  private readonly auth = inject<JotAuth<DemoClaims>>(JotAuth);
  private readonly clock = inject(Clock);

  readonly signedIn = this.auth.isAuthenticated;
  readonly claims = this.auth.claims;
  /** Who is signed in: the `name`, else the `sub` claim. */
  readonly who = computed(() => {
    const c = this.claims();
    return (typeof c?.name === 'string' && c.name) || (typeof c?.sub === 'string' && c.sub) || 'signed in';
  });
  /** The warning before the session ends (idle, or its absolute end), or null. */
  readonly warning = this.auth.sessionWarning;
  /** Whole seconds until the warned end, for the countdown. */
  readonly warningLeft = computed(() => {
    const warning = this.warning();
    return warning ? Math.max(0, Math.ceil((warning.endsAt.getTime() - this.clock.now()) / 1000)) : null;
  });
  /** Whole seconds until the access token's `exp`, or null without one. */
  readonly expiresIn = computed(() => {
    const at = this.auth.expiresAt();
    return at === null ? null : Math.max(0, Math.ceil((at.getTime() - this.clock.now()) / 1000));
  });
}

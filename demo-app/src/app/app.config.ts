import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { type ApplicationConfig, inject, provideAppInitializer, provideZonelessChangeDetection } from '@angular/core';
import { provideRouter, withComponentInputBinding } from '@angular/router';
import {
  type JotFeature,
  jotInterceptor,
  provideJot,
  withCrossTabSync,
  withIdleLogout,
  withDpop,
  withRefresh,
  withStorage,
} from 'ngx-jot';

import { Activity } from './activity';
import { routes } from './app.routes';
import { DEMO_CONFIG, type DemoConfig, idleWarnSeconds } from './demo-config';
import { logAttempts, logRequests } from './log-interceptors';
import { sendBrokenCopy } from './token-expiry';

/** The application's providers, built from its config.json. */
export function appConfigFor(config: DemoConfig): ApplicationConfig {
  const features: JotFeature[] = [withStorage(config.storage)];
  if (config.refreshUrl) features.push(withRefresh({ url: config.refreshUrl }));
  if (config.crossTabSync) features.push(withCrossTabSync());
  if (config.idleSeconds) {
    features.push(
      withIdleLogout({ afterSeconds: config.idleSeconds, warnSeconds: idleWarnSeconds(config.idleSeconds) }),
    );
  }
  if (config.dpop) features.push(withDpop());
  return {
    providers: [
      provideZonelessChangeDetection(),
      { provide: DEMO_CONFIG, useValue: config },
      provideRouter(routes, withComponentInputBinding()),
      // The two loggers sit around jotInterceptor to show what it holds back and replays;
      // sendBrokenCopy, innermost, is the "expire the token now" for APIs without an expire URL.
      provideHttpClient(withInterceptors([logRequests, jotInterceptor, logAttempts, sendBrokenCopy])),
      provideJot(
        {
          loginUrl: config.loginUrl,
          ...(config.logoutUrl ? { logoutUrl: config.logoutUrl } : {}),
          allowedOrigins: config.apiOrigin ? [config.apiOrigin] : [],
          forbiddenRoute: '/forbidden',
        },
        ...features,
      ),
      // Listen to the session's events from the start, not from the first page that shows them.
      provideAppInitializer(() => void inject(Activity)),
    ],
  };
}

import { bootstrapApplication } from '@angular/platform-browser';

import { SoakApp, soakConfig } from './soak-app';

bootstrapApplication(SoakApp, soakConfig).catch((error: unknown) => console.error(error));

import type { Routes } from '@angular/router';
import { jotClaimsGuard, jotGuard, jotGuestGuard } from 'ngx-jot';

import { isAdmin, type DemoClaims } from './demo-claims';
import { Admin } from './pages/admin';
import { Forbidden } from './pages/forbidden';
import { Home } from './pages/home';
import { Login } from './pages/login';
import { Restricted } from './pages/restricted';

export const routes: Routes = [
  { path: '', component: Home, title: 'ngx-jot demo' },
  { path: 'login', component: Login, canActivate: [jotGuestGuard], title: 'Sign in · ngx-jot demo' },
  { path: 'restricted', component: Restricted, canActivate: [jotGuard], title: 'Restricted · ngx-jot demo' },
  {
    path: 'admin',
    component: Admin,
    canActivate: [jotClaimsGuard<DemoClaims>(isAdmin)],
    title: 'Admin · ngx-jot demo',
  },
  { path: 'forbidden', component: Forbidden, title: 'Not allowed · ngx-jot demo' },
  { path: '**', redirectTo: '' },
];

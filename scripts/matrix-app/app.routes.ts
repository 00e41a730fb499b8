import { Routes } from '@angular/router';
import { jotGuard, jotGuestGuard } from 'ngx-jot';

import { Account } from './account';
import { Home } from './home';
import { Login } from './login';

export const routes: Routes = [
  { path: '', component: Home },
  { path: 'login', component: Login, canActivate: [jotGuestGuard] },
  { path: 'account', component: Account, canActivate: [jotGuard] },
];

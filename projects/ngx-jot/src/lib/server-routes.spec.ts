import { Component } from '@angular/core';
import type { Routes } from '@angular/router';
import { jotClaimsGuard, jotGuard, jotGuestGuard, jotProtectedPaths } from 'ngx-jot';

@Component({ template: '' })
class Page {}

const loadChildren = () => Promise.resolve([] as Routes);
const otherGuard = () => true;

describe('jotProtectedPaths', () => {
  it('names the routes behind jotGuard and jotClaimsGuard, and no other', () => {
    const routes: Routes = [
      { path: '', component: Page },
      { path: 'login', component: Page, canActivate: [jotGuestGuard] },
      { path: 'account', component: Page, canActivate: [jotGuard] },
      { path: 'admin', component: Page, canMatch: [otherGuard, jotClaimsGuard(() => true)] },
      { path: 'about', component: Page, canActivate: [otherGuard] },
      { path: 'user/:id', component: Page, canActivate: [jotGuard] },
      { path: 'old-account', redirectTo: 'account' },
      { path: '**', component: Page },
    ];

    expect(jotProtectedPaths(routes)).toEqual(['account', 'admin', 'user/:id']);
  });

  it('names every child of a protected parent, and the children a canActivateChild protects', () => {
    const routes: Routes = [
      {
        path: 'settings',
        canActivate: [jotGuard],
        children: [
          { path: '', component: Page },
          { path: 'profile', component: Page, children: [{ path: 'photo', component: Page }] },
        ],
      },
      {
        path: '',
        canActivateChild: [jotGuard],
        children: [{ path: 'orders', component: Page }],
      },
      { path: 'shop', children: [{ path: 'cart', component: Page, canActivate: [jotGuard] }] },
    ];

    expect(jotProtectedPaths(routes)).toEqual(['settings', 'settings/profile/photo', 'orders', 'shop/cart']);
  });

  it("covers lazily loaded children behind a guard with '<path>/**'", () => {
    const routes: Routes = [
      { path: 'admin', canMatch: [jotGuard], loadChildren },
      { path: 'reports', canActivateChild: [jotGuard], loadChildren },
      { path: 'docs', loadChildren },
    ];

    expect(jotProtectedPaths(routes)).toEqual(['admin/**', 'reports/**']);
  });

  it('skips routes of other outlets and routes with a matcher', () => {
    const routes: Routes = [
      { path: 'chat', outlet: 'aside', component: Page, canActivate: [jotGuard] },
      { matcher: () => null, component: Page, canActivate: [jotGuard] },
    ];

    expect(jotProtectedPaths(routes)).toEqual([]);
  });
});

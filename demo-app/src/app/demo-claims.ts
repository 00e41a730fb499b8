/*
 * The demo's claims and the admin check, in a file of their own: session.ts and app.routes.ts both
 * need them, and app.routes.ts imports the pages, which import session.ts (an import cycle otherwise).
 */
/** Claims of the reference API's tokens that the demo reads. */
export interface DemoClaims {
  sub?: string;
  name?: string;
  email?: string;
  roles?: unknown;
}

/** The admin page's check: the token's `roles` claim includes 'admin'. */
export const isAdmin = (claims: DemoClaims | null): boolean =>
  Array.isArray(claims?.roles) && claims.roles.includes('admin');

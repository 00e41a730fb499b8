/** The demo's fixed users and the credential check. No state: the list is frozen. */
import { createHash, timingSafeEqual } from 'node:crypto';

export interface DemoUser {
  readonly username: string;
  readonly password: string;
  readonly name: string;
  readonly email: string;
  readonly roles: readonly string[];
}

export const DEMO_USERS: readonly DemoUser[] = Object.freeze([
  { username: 'john.doe', password: 'foobar', name: 'John Doe', email: 'john.doe@example.com', roles: ['user'] },
  { username: 'admin', password: 'admin', name: 'Ada Admin', email: 'admin@example.com', roles: ['user', 'admin'] },
]);

/** Compares digests, so neither the length nor the first differing byte shows in the timing. */
function constantTimeEqual(left: string, right: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(left), digest(right));
}

/** The user with these credentials, or undefined. */
export function checkCredentials(username: string, password: string): DemoUser | undefined {
  // Compare against every user so timing does not reveal which usernames exist.
  let match: DemoUser | undefined;
  for (const user of DEMO_USERS) {
    const nameOk = constantTimeEqual(user.username, username);
    const passOk = constantTimeEqual(user.password, password);
    if (nameOk && passOk) match = user;
  }
  return match;
}

/** The user named `username` (a refresh token's owner), or undefined. */
export function findUser(username: string): DemoUser | undefined {
  return DEMO_USERS.find((user) => user.username === username);
}

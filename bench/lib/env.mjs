// Imported first by every bench script: a minimal DOM (jsdom) and Angular in production mode.
// ESM evaluates imports in order, so this runs before @angular/* is loaded.
import { JSDOM } from 'jsdom';

export const APP_ORIGIN = 'https://app.example.com';

const dom = new JSDOM('<!doctype html><html><head><base href="/"></head><body></body></html>', {
  url: `${APP_ORIGIN}/`,
});

/** The page the bench apps run in: same-origin is https://app.example.com. */
export const window = dom.window;
export const document = dom.window.document;

// What Angular's browser-side code may touch. Node's own URL, timers and queueMicrotask stay.
for (const key of [
  'window',
  'document',
  'location',
  'history',
  'navigator',
  'Node',
  'Element',
  'HTMLElement',
  'Event',
]) {
  if (!(key in globalThis)) {
    Object.defineProperty(globalThis, key, { value: dom.window[key], configurable: true, writable: true });
  }
}
// Production mode, as an app ships: no dev-mode checks in Angular or in the libraries measured.
globalThis.ngDevMode = false;

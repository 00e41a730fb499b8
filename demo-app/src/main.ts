import { bootstrapApplication } from '@angular/platform-browser';

import { App } from './app/app';
import { appConfigFor } from './app/app.config';
import { CONFIG_EXAMPLE, DemoConfigError, loadDemoConfig } from './app/demo-config';

/** Replaces the page with an explanation, so a bad config.json never leaves a blank page. */
function showStartupError(title: string, error: unknown, configUrl: string): void {
  const root = document.querySelector('app-root') ?? document.body;
  const card = document.createElement('section');
  card.className = 'card narrow startup-error';
  card.setAttribute('data-testid', 'startup-error');
  card.setAttribute('role', 'alert');

  const h1 = document.createElement('h1');
  h1.textContent = title;
  const message = document.createElement('p');
  message.className = 'error';
  message.textContent = error instanceof Error ? error.message : String(error);
  card.append(h1, message);

  if (error instanceof DemoConfigError && error.problems.length > 0) {
    const list = document.createElement('ul');
    for (const problem of error.problems) {
      const li = document.createElement('li');
      li.textContent = problem;
      list.append(li);
    }
    card.append(list);
  }

  const help = document.createElement('p');
  help.textContent = `The demo reads ${configUrl} at start-up. It should look like this (URLs relative to apiBaseUrl):`;
  const example = document.createElement('pre');
  example.className = 'code';
  example.textContent = JSON.stringify(CONFIG_EXAMPLE, null, 2);
  const run = document.createElement('p');
  run.className = 'muted small';
  run.textContent = 'Serve it with: npm run demo -- --config my-config.json';
  card.append(help, example, run);

  const page = document.createElement('main');
  page.className = 'page';
  page.append(card);
  root.replaceChildren(page);
  document.title = 'ngx-jot demo: cannot start';
}

async function start(): Promise<void> {
  const configUrl = new URL('config.json', document.baseURI).href;
  let config;
  try {
    config = await loadDemoConfig(configUrl);
  } catch (e) {
    showStartupError('The demo has no usable config.json', e, configUrl);
    return;
  }
  try {
    await bootstrapApplication(App, appConfigFor(config));
  } catch (e) {
    console.error(e);
    showStartupError('The demo could not start', e, configUrl);
  }
}

void start();

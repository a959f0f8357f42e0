// Times a new installation's way to its first client through the console, as a new user would
// click it (scripts/time-to-first-client.sh runs this; not part of the test suite): start the
// binary on an empty store, read the first-run password from its file, sign in, choose a new
// password, create a client, see its secret. Prints one JSON line with the milliseconds.
//
//   PORTCULLIS_BIN=build/release/portcullis node tests/browser/time_to_first_client.mjs
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { launchChromium, startPortcullis } from './harness.mjs';

// The browser is open already when a user starts the server.
const browser = await launchChromium();
const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
const t0 = performance.now();
const server = await startPortcullis({ bootstrap: false });
const started = performance.now();
try {
  const password = readFileSync(join(server.dir, 'admin-password'), 'utf8').trim();
  await page.goto(`${server.url}/console/`);
  await page.locator('#j_username').fill('admin');
  await page.locator('#j_password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#new_password').waitFor();
  await page.locator('#j_password').fill(password);
  await page.locator('#new_password').fill('my own admin password 1');
  await page.locator('#new_password_confirm').fill('my own admin password 1');
  await page.getByRole('button', { name: 'Change password and continue' }).click();
  await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  const signedIn = performance.now();
  await page.getByRole('link', { name: 'Clients' }).click();
  const form = page.getByRole('form', { name: 'Create a client' });
  await form.getByLabel('Name').fill('billing');
  await form.getByLabel('Host').fill('example.com');
  await form.getByRole('button', { name: 'Create client' }).click();
  await page.getByRole('heading', { level: 1, name: 'Client billing created' }).waitFor();
  const secret = (await page.locator('#client-secret').textContent()).trim();
  if (!secret) throw new Error('no secret shown');
  const done = performance.now();
  console.log(JSON.stringify({
    path: 'console',
    serverStartMs: Math.round(started - t0),
    signInMs: Math.round(signedIn - started),
    createClientMs: Math.round(done - signedIn),
    totalMs: Math.round(done - t0),
  }));
} finally {
  await browser.close();
  await server.stop();
}

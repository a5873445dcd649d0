import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import { attributeOf, confirm, launchBrowser, screenshot, seriousViolations, signedIn, textOf, waitForText } from '../support/browser';
import { enrollWith, KeywardStack } from '../support/keyward-stack';

jest.setTimeout(300_000);

/** fetch() from inside the page: the console's own origin and cookie, as any script on it could. */
const fetchIn = async (
  page: Page,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; body: string }> => {
  const init = JSON.stringify({ method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body }) });
  return (await page.evaluate(
    `fetch(${JSON.stringify(path)}, ${init}).then(async (r) => ({ status: r.status, body: await r.text() }))`,
  )) as { status: number; body: string };
};

const keyIdOf = (page: Page): string => decodeURIComponent(/#\/keys\/([^?]+)/.exec(page.url())![1]!);

describe('the web console in headless Chromium: onboarding, key lifecycle, dual control, live timeline, audit', () => {
  const stack = new KeywardStack();
  let browser: Browser;
  let base: string;
  let alice: string;
  let providerPage: Page;
  let alicePage: Page;
  let aliceContext: BrowserContext;
  let keyId: string;
  let rotationSeq: number;
  let auditorKey: string;
  let auditorId: string;
  let auditorPage: Page;
  let appKey: string;
  let appId: string;
  let labelledKey: string;

  const noSeriousViolations = async (page: Page, name: string): Promise<void> => {
    const serious = await seriousViolations(page);
    expect({ page: name, serious }).toEqual({ page: name, serious: [] });
  };

  beforeAll(async () => {
    await stack.start();
    base = stack.api.baseUrl;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await (browser as Browser | undefined)?.close();
    await stack.stop();
  });

  it("a provider-admin onboards a tenant; the first admin's enrollment token is shown once", async () => {
    const { page } = await signedIn(browser, base, stack.providerKey);
    providerPage = page;
    await page.waitForSelector('form[aria-label="Onboard a tenant"]');
    await page.type('form[aria-label="Onboard a tenant"] input[name=name]', 'Console Tenant A');
    await page.click('form[aria-label="Onboard a tenant"] button[type=submit]');
    await page.waitForSelector('#enrollment-token');
    const token = await textOf(page, '#enrollment-token');
    await page.goto(`${base}/console/#/tenants?refresh=1`);
    await waitForText(page, 'table[aria-label=Tenants]', 'Console Tenant A');
    await screenshot(page, 'tenants');
    await noSeriousViolations(page, 'tenants');
    alice = (await enrollWith(stack.api, token)).apiKey;
    // The API key is in no storage the page's scripts can read, and the session cookie is httpOnly.
    const storage = await page.evaluate('({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie })');
    expect(storage).toEqual({ local: 0, session: 0, cookie: '' });
  });

  it('a tenant-admin creates a key and rotates it (with confirmation); the timeline shows both', async () => {
    ({ page: alicePage, context: aliceContext } = await signedIn(browser, base, alice));
    await alicePage.waitForSelector('form[aria-label="Create a key"]');
    await screenshot(alicePage, 'sign-in-keys-empty');
    await alicePage.click('form[aria-label="Create a key"] button[type=submit]');
    await alicePage.waitForSelector('button[data-action=rotate]');
    keyId = keyIdOf(alicePage);
    await alicePage.click('button[data-action=rotate]');
    await confirm(alicePage);
    await alicePage.waitForSelector('#timeline li[data-event="key.rotated.v1"]');
    rotationSeq = Number(await attributeOf(alicePage, '#timeline li[data-event="key.rotated.v1"]', 'data-seq'));
    await waitForText(alicePage, 'dl.facts', 'Latest version2');
    await screenshot(alicePage, 'key');
    await noSeriousViolations(alicePage, 'key');

    await alicePage.goto(`${base}/console/#/keys?state=Active&type=AES-256-GCM`);
    await waitForText(alicePage, 'table[aria-label=Keys]', keyId);
    await screenshot(alicePage, 'keys');
    await noSeriousViolations(alicePage, 'keys');
    await alicePage.goto(`${base}/console/#/keys?state=Destroyed`);
    await waitForText(alicePage, 'main', 'No keys match.');
  });

  it("a destruction requested by one admin waits for a second admin; the requester's timeline updates live", async () => {
    const bob = await stack.principal(alice, 'tenant-admin');
    await alicePage.goto(`${base}/console/#/keys/${encodeURIComponent(keyId)}`);
    await alicePage.waitForSelector('button[data-action=deactivate]');
    await alicePage.click('button[data-action=deactivate]');
    await confirm(alicePage);
    await alicePage.waitForSelector('button[data-action=schedule-destruction]');
    await alicePage.click('button[data-action=schedule-destruction]');
    await confirm(alicePage);
    await waitForText(alicePage, 'main', 'Approval requested');
    expect(await alicePage.$('#timeline li[data-event="key.destruction-scheduled.v1"]')).toBeNull();
    // Marks this document: if the page reloads, the mark is gone.
    await alicePage.evaluate('window.stayed = true');

    const { page: bobPage } = await signedIn(browser, base, bob);
    await bobPage.goto(`${base}/console/#/approvals`);
    await bobPage.waitForSelector('button[data-decide=approve]');
    await waitForText(bobPage, 'table[aria-label="Approval requests"]', 'key.schedule-destruction');
    await screenshot(bobPage, 'approvals');
    await noSeriousViolations(bobPage, 'approvals');
    await bobPage.click('button[data-decide=approve]');
    await confirm(bobPage);
    await waitForText(bobPage, 'main', 'Approved');

    await alicePage.waitForSelector('#timeline li[data-event="key.destruction-scheduled.v1"]', { timeout: 30_000 });
    expect(await alicePage.evaluate('window.stayed')).toBe(true);
    await screenshot(alicePage, 'key-destruction-scheduled');
  });

  it('an auditor sees the history verified and moves the "state at" slider to before the rotation', async () => {
    ({ principalId: auditorId, apiKey: auditorKey } = await stack.principalWithId(alice, 'auditor'));
    ({ page: auditorPage } = await signedIn(browser, base, auditorKey));
    await auditorPage.goto(`${base}/console/#/events`);
    await auditorPage.waitForSelector('[data-verified=true]', { timeout: 60_000 });
    await waitForText(auditorPage, 'table[aria-label=Events]', 'key.rotated.v1');
    await screenshot(auditorPage, 'events');
    // The exports download through the same cookie.
    for (const format of ['jsonl', 'csv', 'html']) {
      const href = await attributeOf(auditorPage, `a[data-export=${format}]`, 'href');
      const exported = await fetchIn(auditorPage, 'GET', href);
      expect({ format, status: exported.status }).toEqual({ format, status: 200 });
      if (format !== 'html') expect(exported.body).toContain('key.rotated.v1');
    }
    await noSeriousViolations(auditorPage, 'events');

    await auditorPage.goto(`${base}/console/#/state`);
    await auditorPage.waitForSelector('#state-slider');
    await auditorPage.waitForSelector(`tr[data-key="${keyId}"] td[data-version="2"]`);
    const seqList = await attributeOf(auditorPage, '#state-slider', 'data-seqs');
    const seqs: number[] = seqList.split(',').map(Number);
    const before = seqs.indexOf(rotationSeq) - 1;
    expect(before).toBeGreaterThanOrEqual(0);
    await auditorPage.evaluate(
      `(() => { const el = document.getElementById('state-slider'); el.value = '${before}'; el.dispatchEvent(new Event('change')); })()`,
    );
    await auditorPage.waitForSelector(`tr[data-key="${keyId}"] td[data-version="1"]`);
    await screenshot(auditorPage, 'state-at');
    await noSeriousViolations(auditorPage, 'state-at');
  });

  it('a tenant-admin creates a principal (enrollment token shown once), a labelled exportable key, and grants it by label', async () => {
    await alicePage.goto(`${base}/console/#/principals`);
    await alicePage.waitForSelector('form[aria-label="Create a principal"]');
    await alicePage.type('form[aria-label="Create a principal"] input[name=name]', 'console-app');
    await alicePage.select('form[aria-label="Create a principal"] select[name=role]', 'key-user');
    await alicePage.click('form[aria-label="Create a principal"] button[type=submit]');
    await alicePage.waitForSelector('#principal-token');
    const enrolled = await enrollWith(stack.api, await textOf(alicePage, '#principal-token'));
    appKey = enrolled.apiKey;
    appId = enrolled.principalId;
    await waitForText(alicePage, 'table[aria-label=Principals]', appId);
    await screenshot(alicePage, 'principals');
    await noSeriousViolations(alicePage, 'principals');

    // A key with a label, exportable; the label filter of the keys table finds it and only it.
    await alicePage.goto(`${base}/console/#/keys`);
    await alicePage.waitForSelector('form[aria-label="Create a key"]');
    await alicePage.type('form[aria-label="Create a key"] input[name=labels]', 'team=console');
    await alicePage.click('form[aria-label="Create a key"] input[name=exportable]');
    await alicePage.click('form[aria-label="Create a key"] button[type=submit]');
    await alicePage.waitForSelector('button[data-action=enable-export]');
    labelledKey = keyIdOf(alicePage);
    await alicePage.goto(`${base}/console/#/keys?label=${encodeURIComponent('team=console')}`);
    await waitForText(alicePage, 'table[aria-label=Keys]', labelledKey);
    expect(await textOf(alicePage, 'table[aria-label=Keys]')).not.toContain(keyId);

    // Enable export is dual-controlled (two admins now): it becomes an approval request.
    await alicePage.goto(`${base}/console/#/keys/${encodeURIComponent(labelledKey)}`);
    await alicePage.waitForSelector('button[data-action=enable-export]');
    await alicePage.click('button[data-action=enable-export]');
    await confirm(alicePage);
    await waitForText(alicePage, 'main', 'Approval requested (key.enable-export)');

    // The principal's grants: encrypt on every key labelled team=console.
    await alicePage.goto(`${base}/console/#/principals?again=1`);
    await alicePage.waitForSelector('a[aria-label="Grants of console-app"]');
    await alicePage.click('a[aria-label="Grants of console-app"]');
    await waitForText(alicePage, '#grant-mode', 'required');
    await alicePage.waitForSelector('form[aria-label="Create a grant"]');
    await alicePage.select('form[aria-label="Create a grant"] select[name=kind]', 'labels');
    await alicePage.type('form[aria-label="Create a grant"] input[name=keys]', 'team=console');
    await alicePage.click('form[aria-label="Create a grant"] button[type=submit]');
    await waitForText(alicePage, 'main', 'Granted grt');
    await waitForText(alicePage, 'table[aria-label=Grants]', 'team');
    const grantId = await attributeOf(alicePage, 'table[aria-label=Grants] tr[data-grant]', 'data-grant');
    await screenshot(alicePage, 'grants');
    await noSeriousViolations(alicePage, 'grants');

    // The grant works through the API (curl's route), and a second, revoked grant no longer lists as active.
    const encrypted = await stack.call(appKey, 'POST', `/v1/keys/${labelledKey}/encrypt`, { plaintext: 'aGVsbG8=' });
    expect(encrypted.status).toBe(200);
    const extra = await stack.call(alice, 'POST', '/v1/grants', {
      principalId: appId,
      operations: ['decrypt'],
      keys: { ids: [labelledKey] },
    });
    const extraId = extra.json<{ grant: { grantId: string } }>().grant.grantId;
    await alicePage.goto(`${base}/console/#/grants?principalId=${appId}&again=1`);
    await alicePage.waitForSelector(`button[data-revoke-grant="${extraId}"]`);
    await alicePage.click(`button[data-revoke-grant="${extraId}"]`);
    await confirm(alicePage);
    await waitForText(alicePage, 'main', `Revoked grant ${extraId}`);
    // Re-read: the label grant is still active, the revoked one is listed without its button.
    await alicePage.waitForSelector(`button[data-revoke-grant="${grantId}"]`);
    await waitForText(alicePage, `tr[data-grant="${extraId}"]`, 'decrypt');
    expect(await alicePage.$(`button[data-revoke-grant="${extraId}"]`)).toBeNull();
  });

  it('a tenant-admin changes the tenant policy: dual control turns it into an approval request', async () => {
    await alicePage.goto(`${base}/console/#/policy`);
    await alicePage.waitForSelector('form[aria-label="Tenant policy"]');
    await waitForText(alicePage, '#dual-control-status', '2 active administrator(s)');
    await screenshot(alicePage, 'policy');
    await noSeriousViolations(alicePage, 'policy');
    await alicePage.click('form[aria-label="Tenant policy"] input[name=allowCompromisedDecrypt]');
    await alicePage.click('form[aria-label="Tenant policy"] button[type=submit]');
    await confirm(alicePage);
    await waitForText(alicePage, 'main', 'Approval requested (tenant.set-policy)');
    const policy = await stack.call(alice, 'GET', '/v1/tenant/policy');
    expect(policy.json<{ allowCompromisedDecrypt: boolean }>().allowCompromisedDecrypt).toBe(false);
  });

  it('an auditor sees the usage chart per key and per principal: operations and refusals over time', async () => {
    // One refusal: the key-user's grant does not cover the first key.
    expect((await stack.call(appKey, 'POST', `/v1/keys/${keyId}/encrypt`, { plaintext: 'aGVsbG8=' })).status).toBeGreaterThanOrEqual(400);
    // The chart is SVG built in the page under the strict CSP: the browser reports no violation.
    await auditorPage.evaluate(
      "window.cspViolations = []; document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective))",
    );
    await auditorPage.goto(`${base}/console/#/usage?by=principal&id=${appId}`);
    // Usage records reach the topic in batches: ask again until both are in.
    for (let attempt = 0; ; attempt++) {
      await auditorPage.waitForSelector('#usage-chart', { timeout: 30_000 });
      const ok = Number(await attributeOf(auditorPage, '#usage-chart', 'data-ok'));
      const refused = Number(await attributeOf(auditorPage, '#usage-chart', 'data-refused'));
      if (ok >= 1 && refused >= 1) break;
      if (attempt > 30) throw new Error(`usage records did not arrive (ok ${ok}, refused ${refused})`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      // "Show" reads again; the old chart goes first, so the wait above sees only the new one.
      await auditorPage.evaluate('document.querySelector("#usage-chart")?.remove()');
      await auditorPage.click('form[aria-label="Usage filter"] button[type=submit]');
    }
    await auditorPage.waitForSelector('#usage-chart rect.ok');
    await auditorPage.waitForSelector('#usage-chart rect.refused');
    await waitForText(auditorPage, 'table[aria-label="Usage per principal"]', appId);
    expect(await auditorPage.evaluate('window.cspViolations')).toEqual([]);
    await screenshot(auditorPage, 'usage');
    await noSeriousViolations(auditorPage, 'usage');
    // Per key: from the key's own page.
    await auditorPage.goto(`${base}/console/#/keys/${labelledKey}`);
    await auditorPage.waitForSelector('#key-usage');
    await auditorPage.click('#key-usage');
    await auditorPage.waitForSelector(`table[aria-label="Usage per key"] tr[data-usage="${labelledKey}"]`);
    expect(await textOf(auditorPage, `tr[data-usage="${labelledKey}"] td[data-count=ok]`)).toBe('1');
    expect(await auditorPage.$(`tr[data-usage="${keyId}"]`)).toBeNull();

    // An auditor reads principals and grants, and is offered no change.
    await auditorPage.goto(`${base}/console/#/principals`);
    await waitForText(auditorPage, 'table[aria-label=Principals]', appId);
    expect(await auditorPage.$('form[aria-label="Create a principal"]')).toBeNull();
    expect(await auditorPage.$('button[data-revoke]')).toBeNull();
  });

  it('a provider-admin sees the seal status and service health, and a share goes to the unseal route', async () => {
    await providerPage.goto(`${base}/console/#/service`);
    await waitForText(providerPage, '#seal-badge', 'Unsealed');
    await waitForText(providerPage, '#health-badge', 'Ready');
    await providerPage.waitForSelector('tr[data-dependency]');
    await screenshot(providerPage, 'service');
    await noSeriousViolations(providerPage, 'service');
    await providerPage.type('#unseal-share', 'kwshare-1-not-a-share');
    await providerPage.click('form[aria-label="Submit an unseal share"] button[type=submit]');
    // The instance is unsealed: the API's own refusal, shown as it answered; the field is cleared.
    await waitForText(providerPage, '#seal', '(409)');
    expect(await providerPage.$eval('#unseal-share', (el) => (el as unknown as { value: string }).value)).toBe('');
  });

  it('a tenant-admin of tenant A sees nothing of tenant B, by any URL of the console or the API', async () => {
    const other = await stack.onboard('Console Tenant B');
    const made = await stack.call(other.adminKey, 'POST', '/v1/keys', { activate: true });
    const otherKey = made.json<{ key: { keyId: string } }>().key.keyId;

    await alicePage.goto(`${base}/console/#/keys/${encodeURIComponent(otherKey)}`);
    await waitForText(alicePage, 'main', '(404)');
    await alicePage.goto(`${base}/console/#/keys`);
    await alicePage.waitForSelector('table[aria-label=Keys]');
    expect(await textOf(alicePage, 'main')).not.toContain(otherKey);
    await alicePage.goto(`${base}/console/#/events?keyId=${otherKey}`);
    await waitForText(alicePage, 'main', 'No events match.');

    const now = new Date().toISOString();
    const probes = [
      `/v1/keys/${otherKey}`,
      `/v1/keys/alias%2Fnothing`,
      `/v1/audit/events?tenantId=${other.tenantId}`,
      `/v1/audit/verify?tenantId=${other.tenantId}`,
      `/v1/audit/state?tenantId=${other.tenantId}&at=${now}`,
      `/v1/audit/checkpoints?tenantId=${other.tenantId}`,
      `/v1/audit/live?tenantId=${other.tenantId}`,
      `/v1/audit/usage?tenantId=${other.tenantId}`,
      `/v1/tenants/${other.tenantId}`,
      '/v1/tenants',
    ];
    for (const path of probes) {
      const answer = await fetchIn(alicePage, 'GET', path);
      expect({ path, refused: [403, 404].includes(answer.status) }).toEqual({ path, refused: true });
      // A problem document, nothing of tenant B's (its id or key id appear only where the request named them).
      expect(JSON.parse(answer.body)).toMatchObject({
        type: expect.stringMatching(/^urn:keyward:problem:/) as string,
        status: answer.status,
      });
      expect(answer.body).not.toContain('Console Tenant B');
    }
    // ?tenantId= is the provider's: for a tenant-admin the approvals route answers its own tenant's requests, never B's.
    const approvals = await fetchIn(alicePage, 'GET', `/v1/approvals?tenantId=${other.tenantId}`);
    expect(approvals.status).toBe(200);
    expect(approvals.body).not.toContain(other.tenantId);
    expect(approvals.body).not.toContain(otherKey);
    const rotate = await fetchIn(alicePage, 'GET', '/v1/session');
    const csrf = JSON.parse(rotate.body) as { csrfToken: string };
    const write = await fetchIn(
      alicePage,
      'POST',
      `/v1/keys/${otherKey}/rotate`,
      { 'x-csrf-token': csrf.csrfToken, 'content-type': 'application/json' },
      '{}',
    );
    expect(write.status).toBe(404);
  });

  it('a provider-admin sees the service status, and suspends and resumes a tenant with confirmation', async () => {
    await providerPage.goto(`${base}/console/#/tenants?again=1`);
    await waitForText(providerPage, '#service-status', 'Unsealed');
    await waitForText(providerPage, '#service-status', 'Ready');
    await providerPage.waitForSelector('button[aria-label="Suspend Console Tenant B"]');
    await providerPage.click('button[aria-label="Suspend Console Tenant B"]');
    await confirm(providerPage);
    await providerPage.waitForSelector('button[aria-label="Resume Console Tenant B"]');
    await screenshot(providerPage, 'tenants');
    await noSeriousViolations(providerPage, 'tenants (suspended)');
    await providerPage.click('button[aria-label="Resume Console Tenant B"]');
    await confirm(providerPage);
    await providerPage.waitForSelector('button[aria-label="Suspend Console Tenant B"]');
  });

  it('a change without the CSRF token is refused; the cookie is refused after sign-out and after the principal is revoked', async () => {
    const forged = await fetchIn(alicePage, 'POST', '/v1/keys', { 'content-type': 'application/json' }, '{}');
    expect(forged.status).toBe(403);
    expect(forged.body).toContain('csrf-refused');

    expect((await fetchIn(auditorPage, 'GET', '/v1/keys')).status).toBe(200);
    expect((await stack.call(alice, 'DELETE', `/v1/principals/${auditorId}`)).status).toBe(200);
    expect((await fetchIn(auditorPage, 'GET', '/v1/keys')).status).toBe(401);

    const cookies = await aliceContext.cookies();
    const session = cookies.find((c) => c.name === '__Host-keyward-session');
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    await alicePage.click('#sign-out');
    await alicePage.waitForSelector('#api-key');
    const replayed = await stack.api.request('GET', '/v1/keys', { headers: { cookie: `${session!.name}=${session!.value}` } });
    expect(replayed.status).toBe(401);
    await screenshot(alicePage, 'sign-in');
    await noSeriousViolations(alicePage, 'sign-in');
  });
});

import type { Browser, Page } from 'puppeteer-core';
import { launchBrowser, screenshot, seriousViolations, signedIn, textOf, waitForText } from '../support/browser';
import { directoryBackups, tamperKekPart } from '../backup/support/backup-destinations';
import { KeywardStack } from '../support/keyward-stack';
import type { ServiceProcess } from '../support/service-process';

jest.setTimeout(300_000);

/**
 * The console's Backups page in headless Chromium: a provider-admin sees the last success, sizes
 * and places of each part, and verifies a snapshot (the backup service reads it back); a tampered
 * part shows as failed. Tenant-admins have no such page and the API refuses them.
 */
describe('the console Backups page (provider-admin) in headless Chromium, with a real backup service', () => {
  const stack = new KeywardStack();
  const { env: backupEnv, kekDir } = directoryBackups('kw-console-backups-');
  let backup: ServiceProcess;
  let browser: Browser;
  let base: string;
  let page: Page;
  let snapshotId: string;

  const noSeriousViolations = async (name: string): Promise<void> => {
    expect({ page: name, serious: await seriousViolations(page) }).toEqual({ page: name, serious: [] });
  };
  const noCspViolations = async (): Promise<void> => {
    expect(await page.evaluate('window.cspViolations')).toEqual([]);
  };
  const openBackups = async (): Promise<void> => {
    await page.goto(`${base}/console/#/backups`);
    await page.reload({ waitUntil: 'load' });
    await page.evaluate(
      "window.cspViolations = []; document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective))",
    );
    await page.waitForSelector('#last-success');
  };

  beforeAll(async () => {
    await stack.start();
    backup = await stack.startBackup(backupEnv);
    base = stack.api.baseUrl;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await (browser as Browser | undefined)?.close();
    await backup.stop();
    await stack.stop();
  });

  it('before any backup the page says there is no successful backup', async () => {
    ({ page } = await signedIn(browser, base, stack.providerKey));
    await waitForText(page, 'nav', 'Backups');
    await openBackups();
    expect(await textOf(page, '#last-success')).toBe('No successful backup');
    await waitForText(page, 'main', 'No backup recorded yet');
  });

  it('after a backup: last success, each part with its size, place and digest; Verify shows it verified', async () => {
    const tenant = await stack.onboard();
    expect((await stack.call(tenant.adminKey, 'POST', '/v1/keys', { activate: true })).status).toBe(201);
    const taken = await backup.request('POST', '/v1/backups', { headers: { authorization: `Bearer ${stack.providerKey}` } });
    expect(taken.status).toBe(201);
    snapshotId = taken.json<{ snapshotId: string }>().snapshotId;

    await openBackups();
    await waitForText(page, 'table[aria-label=Backups]', snapshotId);
    await waitForText(page, 'dl.facts', 'not verified yet');
    const row = `tr[data-run="${snapshotId}"]`;
    expect(await textOf(page, `${row} td:nth-child(5)`)).toContain(kekDir);
    expect(await textOf(page, `${row} td:nth-child(5)`)).toMatch(/\d+(\.\d)? (B|KiB)/);

    await page.click(`button[data-verify="${snapshotId}"]`);
    await waitForText(page, '#backup-notices', `Snapshot ${snapshotId} verified`, 60_000);
    await waitForText(page, `${row} td.verification`, 'Verified');
    await waitForText(page, 'dl.facts', 'Verified');
    await screenshot(page, 'backups');
    await noSeriousViolations('backups');
    await noCspViolations();
  });

  it('a tampered part: Verify shows it failed, with the reason and the file', async () => {
    tamperKekPart(kekDir, snapshotId);

    await page.click(`button[data-verify="${snapshotId}"]`);
    await waitForText(page, '#backup-notices', 'failed verification (tampered)', 60_000);
    const row = `tr[data-run="${snapshotId}"]`;
    await waitForText(page, `${row} td.verification`, 'Failed: tampered');
    expect(await textOf(page, `${row} td.verification`)).toContain('kek.kwb');
    await screenshot(page, 'backups-tampered');
    await noSeriousViolations('backups-tampered');
  });

  it('a tenant-admin has no Backups page, and the API refuses the route from the page', async () => {
    const tenant = await stack.onboard();
    const { page: adminPage, context } = await signedIn(browser, base, tenant.adminKey);
    expect(await textOf(adminPage, 'nav')).not.toContain('Backups');
    await adminPage.goto(`${base}/console/#/backups`);
    await adminPage.waitForSelector('form[aria-label="Create a key"]');
    const answer = (await adminPage.evaluate(
      "fetch('/v1/sys/backups', { credentials: 'same-origin' }).then(async (r) => ({ status: r.status, body: await r.text() }))",
    )) as { status: number; body: string };
    expect(answer.status).toBe(403);
    expect(answer.body).not.toContain(snapshotId);
    await context.close();
  });
});

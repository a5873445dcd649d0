import { currentSession, resume, signOut, whenSignedOut, type Session } from './api.js';
import { byId, h, mount } from './dom.js';
import { clearLiveListeners, startLive, stopLive } from './live.js';
import { approvalsPage } from './pages/approvals.js';
import { backupsPage } from './pages/backups.js';
import { eventsPage } from './pages/events.js';
import { grantsPage } from './pages/grants.js';
import { keyPage } from './pages/key.js';
import { keysPage } from './pages/keys.js';
import { policyPage } from './pages/policy.js';
import { principalsPage } from './pages/principals.js';
import { servicePage } from './pages/service.js';
import { signInPage } from './pages/sign-in.js';
import { stateAtPage } from './pages/state-at.js';
import { tenantsPage } from './pages/tenants.js';
import { usagePage } from './pages/usage.js';

/** The sections each role sees (the API decides what each may do; this only hides what would be refused). */
const SECTIONS: Record<Session['role'], readonly [string, string][]> = {
  'provider-admin': [
    ['tenants', 'Tenants'],
    ['service', 'Service'],
    ['backups', 'Backups'],
    ['approvals', 'Approvals'],
    ['events', 'Events'],
  ],
  'tenant-admin': [
    ['keys', 'Keys'],
    ['principals', 'Principals'],
    ['grants', 'Grants'],
    ['policy', 'Policy'],
    ['approvals', 'Approvals'],
    ['events', 'Events'],
    ['state', 'State at'],
    ['usage', 'Usage'],
  ],
  auditor: [
    ['keys', 'Keys'],
    ['principals', 'Principals'],
    ['grants', 'Grants'],
    ['policy', 'Policy'],
    ['approvals', 'Approvals'],
    ['events', 'Events'],
    ['state', 'State at'],
    ['usage', 'Usage'],
  ],
  'key-user': [['keys', 'Keys']],
  'kmip-client': [],
};

/**
 * A fresh, empty <main> for the page about to show: a render still under way for the page left (a
 * live update, an action's answer) then mounts into the detached old element, not over this page.
 */
function freshMain(): HTMLElement {
  const old = byId('main');
  const fresh = old.cloneNode(false) as HTMLElement;
  old.replaceWith(fresh);
  return fresh;
}

function header(session: Session | undefined, route: string): void {
  const nav = byId('nav');
  const who = byId('who');
  if (!session) {
    mount(nav);
    mount(who);
    return;
  }
  mount(
    nav,
    ...SECTIONS[session.role].map(([id, label]) => h('a', { href: `#/${id}`, 'aria-current': route === id ? 'page' : undefined }, label)),
  );
  const out = h('button', { type: 'button', id: 'sign-out' }, 'Sign out');
  out.addEventListener('click', () => {
    void signOut().then(() => {
      stopLive();
      location.hash = '#/';
      void show();
    });
  });
  mount(who, h('span', {}, `${session.role} · ${session.principalId} · ${session.tenantId}`), out);
}

/** Live updates for the roles that may read the audit trail (GET /v1/audit/live). */
function follow(): void {
  const role = currentSession()?.role;
  if (role === 'tenant-admin' || role === 'auditor' || role === 'provider-admin') startLive();
}

/** Renders the page the location hash names: #/<section>[/<id>][?query]. */
async function show(): Promise<void> {
  clearLiveListeners();
  const session = currentSession();
  const [path = '', query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [section = '', ...rest] = path.split('/').map(decodeURIComponent);
  const params = new URLSearchParams(query);
  if (!session) {
    header(undefined, '');
    signInPage(freshMain(), () => {
      follow();
      void show();
    });
    return;
  }
  const allowed = SECTIONS[session.role].map(([id]) => id);
  const route = allowed.includes(section) ? section : (allowed[0] ?? '');
  header(session, route);
  document.title = `Keyward console · ${route}`;
  const target = freshMain();
  switch (route) {
    case 'keys':
      return rest[0] ? keyPage(target, params, rest[0]) : keysPage(target, params);
    case 'approvals':
      return approvalsPage(target, params);
    case 'events':
      return eventsPage(target, params);
    case 'state':
      return stateAtPage(target);
    case 'tenants':
      return tenantsPage(target, params);
    case 'service':
      return servicePage(target);
    case 'backups':
      return backupsPage(target);
    case 'principals':
      return principalsPage(target, params);
    case 'grants':
      return grantsPage(target, params);
    case 'policy':
      return policyPage(target);
    case 'usage':
      return usagePage(target, params);
    default:
      mount(target, h('h1', {}, 'Nothing to show'), h('p', {}, 'This role has no console pages.'));
  }
}

async function start(): Promise<void> {
  whenSignedOut(() => {
    stopLive();
    void show();
  });
  if (await resume()) follow();
  window.addEventListener('hashchange', () => void show());
  await show();
}

void start();

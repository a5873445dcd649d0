import { signIn } from '../api.js';
import { h, mount } from '../dom.js';
import { failure } from './shared.js';

/** The sign-in form: the API key is pasted once, sent once (POST /v1/session) and dropped from the page. */
export function signInPage(main: HTMLElement, signedIn: () => void): void {
  const key = h('input', { type: 'password', id: 'api-key', name: 'apiKey', autocomplete: 'off', spellcheck: 'false', required: true });
  const status = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'signin', 'aria-label': 'Sign in' },
    h('p', {}, 'Paste your API key. It is exchanged once for a short-lived session cookie and never stored by the browser.'),
    h('label', { for: 'api-key' }, 'API key'),
    key,
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Sign in')),
    status,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = key.value;
    key.value = '';
    signIn(value).then(signedIn, (err: unknown) => mount(status, failure(err)));
  });
  mount(main, h('h1', {}, 'Sign in'), form);
  key.focus();
}

import { byId, mount, type Child } from './dom.js';

/** Asks for confirmation in the page's modal dialog; resolves true only on "Confirm". */
export function confirmAction(title: string, text: string, confirmLabel: string, ...extra: Child[]): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('confirm');
  byId('confirm-title').textContent = title;
  byId('confirm-text').textContent = text;
  byId('confirm-ok').textContent = confirmLabel;
  mount(byId('confirm-extra'), ...extra);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
  });
}

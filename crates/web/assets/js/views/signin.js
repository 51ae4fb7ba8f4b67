// Sign in.

import { h, icon } from '../dom.js';
import { field, showError, clearErrors, alertBox } from '../components.js';
import { signIn, session } from '../session.js';
import { afterSignIn } from '../main.js';

const FORM_ERRORS = {
  invalid_credentials: 'That username and password do not match. Try again.',
  too_many_attempts: 'Too many attempts. Wait a minute and try again.',
};

export async function view(ctx) {
  if (session.user) {
    queueMicrotask(() => afterSignIn());
    return h('div');
  }
  const form = h('form', { class: 'signin-form', novalidate: true },
    h('div', { class: 'form-error' }),
    field({ label: 'Username', name: 'username', required: true, autocomplete: 'username', attrs: { 'data-autofocus': true, autocapitalize: 'none', spellcheck: 'false' } }),
    field({ label: 'Password', name: 'password', type: 'password', required: true, autocomplete: 'current-password' }),
    h('button', { class: 'btn btn-primary btn-block', type: 'submit' }, 'Sign in'));
  const refused = ctx && ctx.query.get('error');
  if (refused) showError(form, { message: FORM_ERRORS[refused] || 'Sign-in was refused. Try again.' });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const username = form.elements.username.value.trim();
    const password = form.elements.password.value;
    if (!username) return showError(form, { field: 'username', message: 'Enter your username' });
    if (!password) return showError(form, { field: 'password', message: 'Enter your password' });
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    button.textContent = 'Signing in…';
    try {
      await signIn(username, password);
      await afterSignIn();
    } catch (err) {
      button.disabled = false;
      button.textContent = 'Sign in';
      if (err.status === 401 || err.code === 'invalid_credentials') {
        showError(form, { message: 'That username and password do not match. Try again.' });
        form.elements.password.value = '';
        form.elements.password.focus();
      } else if (err.status === 429) {
        showError(form, { message: err.message || 'Too many attempts. Wait a minute and try again.' });
      } else {
        showError(form, err);
      }
    }
  });
  return h('div', { class: 'signin-page' },
    h('div', { class: 'signin-card' },
      h('div', { class: 'signin-brand' }, icon('leaf'), h('span', {}, 'Canopy')),
      h('h1', {}, 'Sign in'),
      h('p', { class: 'muted' }, 'Staff sign-in for this dispensary.'),
      form,
      alertBox('info', 'Signing in on a shared register? Sign out when your shift ends.')));
}

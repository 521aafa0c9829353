import { createVanishClient, parseLink } from '@vanish/client';
import { errorSentence } from '../lib/messages.js';
import { announce, byId, copyField } from './dom.js';

// Nothing is fetched on load: a link previewer or mail scanner that runs this page spends nothing.
const client = createVanishClient({ baseUrl: location.origin });

const form = byId<HTMLFormElement>('reveal-form');
const fieldset = byId<HTMLFieldSetElement>('reveal-fields');
const passphrase = byId<HTMLInputElement>('passphrase');
const submit = byId<HTMLButtonElement>('reveal');
const error = byId<HTMLElement>('reveal-error');
const view = byId<HTMLElement>('secret-view');
const secret = byId<HTMLTextAreaElement>('secret');
const copyStatus = byId<HTMLElement>('copy-status');
const ended = byId<HTMLElement>('ended');
const endedText = byId<HTMLElement>('ended-text');

/** Shows a final message in place of the form or the secret, and moves focus to it. */
function end(text: string): void {
  form.hidden = true;
  view.hidden = true;
  endedText.textContent = text;
  ended.hidden = false;
  ended.focus();
}

/** Removes the secret from the DOM and drops the page's only reference to it. */
function clear(): void {
  secret.value = '';
  secret.textContent = '';
  passphrase.value = '';
}

if (location.hash.length <= 1) {
  end(errorSentence(safeParse()).text);
} else {
  fieldset.disabled = false;
}

function safeParse(): unknown {
  try {
    parseLink(location.href);
    return undefined;
  } catch (err) {
    return err;
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (submit.disabled) return;
  submit.disabled = true;
  submit.textContent = 'Revealing…';
  announce(error, '');
  // The key goes in the body of POST /reveal, never in a URL.
  client
    .revealSecret(location.href, passphrase.value)
    .then((text) => {
      passphrase.value = '';
      form.hidden = true;
      secret.value = text;
      view.hidden = false;
      view.focus();
    })
    .catch((err: unknown) => {
      const sentence = errorSentence(err);
      if (sentence.final) return end(sentence.text);
      announce(error, sentence.text);
      passphrase.focus();
      passphrase.select();
    })
    .finally(() => {
      submit.disabled = false;
      submit.textContent = 'Reveal secret';
    });
});

byId<HTMLButtonElement>('copy-secret').addEventListener('click', () => void copyField(secret, copyStatus, 'Secret'));
byId<HTMLButtonElement>('hide').addEventListener('click', () => {
  clear();
  end('The secret was removed from this page. It was destroyed on the server when you revealed it, so it cannot be shown again.');
});
addEventListener('pagehide', clear);
// Another link pasted into this tab changes only the fragment: start over with the new key.
addEventListener('hashchange', () => {
  clear();
  location.reload();
});

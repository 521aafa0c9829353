import { createVanishClient, type ServerLimits } from '@vanish/client';
import { checkSendForm, errorSentence } from '../lib/messages.js';
import { generatePassphrase } from '../lib/passphrase.js';
import { sizeLine, utf8Bytes } from '../lib/text.js';
import { formatExpiry, ttlChoices } from '../lib/time.js';
import { announce, byId, copyField } from './dom.js';

const client = createVanishClient({ baseUrl: location.origin });

const form = byId<HTMLFormElement>('send-form');
const fieldset = byId<HTMLFieldSetElement>('send-fields');
const secret = byId<HTMLTextAreaElement>('secret');
const count = byId<HTMLElement>('secret-count');
const passphrase = byId<HTMLInputElement>('passphrase');
const generate = byId<HTMLButtonElement>('generate');
const ttl = byId<HTMLSelectElement>('ttl');
const submit = byId<HTMLButtonElement>('create');
const error = byId<HTMLElement>('send-error');
const result = byId<HTMLElement>('result');
const link = byId<HTMLInputElement>('link');
const sharedPassphrase = byId<HTMLInputElement>('shared-passphrase');
const expires = byId<HTMLTimeElement>('expires');
const copyStatus = byId<HTMLElement>('copy-status');

let limits: ServerLimits | undefined;

function updateCount(): void {
  if (!limits) return;
  const line = sizeLine(secret.value, limits.maxSecretBytes);
  count.textContent = line.text;
  count.classList.toggle('over', line.over);
  secret.setAttribute('aria-invalid', String(line.over));
}

async function start(): Promise<void> {
  try {
    limits = await client.getLimits();
  } catch (err) {
    announce(error, `The page could not load the server's limits. ${errorSentence(err).text}`);
    return;
  }
  for (const choice of ttlChoices(limits)) {
    const option = new Option(choice.label, String(choice.seconds), choice.selected, choice.selected);
    ttl.add(option);
  }
  passphrase.minLength = limits.passphraseMinChars;
  passphrase.maxLength = limits.passphraseMaxChars;
  updateCount();
  fieldset.disabled = false;
}

secret.addEventListener('input', updateCount);

generate.addEventListener('click', () => {
  passphrase.value = generatePassphrase();
  passphrase.focus();
  passphrase.select();
  announce(error, '');
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!limits || submit.disabled) return;
  const input = { secret: secret.value, passphrase: passphrase.value, bytes: utf8Bytes(secret.value) };
  const problem = checkSendForm(input, limits);
  if (problem) {
    announce(error, problem.text);
    (problem.field === 'secret' ? secret : passphrase).focus();
    return;
  }
  const max = limits.maxSecretBytes;
  submit.disabled = true;
  submit.textContent = 'Creating…';
  announce(error, '');
  client
    .createSecret({ secret: input.secret, passphrase: input.passphrase, ttl: Number(ttl.value) })
    .then((created) => {
      link.value = created.link;
      sharedPassphrase.value = input.passphrase;
      expires.dateTime = created.expiresAt.toISOString();
      expires.textContent = formatExpiry(created.expiresAt);
      secret.value = '';
      passphrase.value = '';
      form.hidden = true;
      result.hidden = false;
      result.focus();
    })
    .catch((err: unknown) => announce(error, errorSentence(err, max).text))
    .finally(() => {
      submit.disabled = false;
      submit.textContent = 'Create link';
    });
});

byId<HTMLButtonElement>('copy-link').addEventListener('click', () => void copyField(link, copyStatus, 'Link'));
byId<HTMLButtonElement>('copy-passphrase').addEventListener('click', () => void copyField(sharedPassphrase, copyStatus, 'Passphrase'));
byId<HTMLButtonElement>('another').addEventListener('click', () => {
  link.value = '';
  sharedPassphrase.value = '';
  copyStatus.textContent = '';
  result.hidden = true;
  form.hidden = false;
  updateCount();
  secret.focus();
});
// Leaving the page drops what it holds.
addEventListener('pagehide', () => {
  secret.value = '';
  passphrase.value = '';
  sharedPassphrase.value = '';
});

void start();

/**
 * Small DOM helpers shared by the two pages. (Covered by the browser tests, not the unit tests.)
 */

/**
 * Finds an element the page's HTML is known to contain.
 *
 * @param id - the element's id
 * @returns the element
 * @throws Error when the HTML and the script disagree
 */
export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

/**
 * Copies text to the clipboard and says so in a live region; if the browser refuses, selects the
 * text so the reader can copy it with the keyboard.
 *
 * @param field - the field holding the text
 * @param status - a `role="status"` element
 * @param what - what was copied, for the message
 */
export async function copyField(field: HTMLInputElement | HTMLTextAreaElement, status: HTMLElement, what: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(field.value);
    status.textContent = `${what} copied.`;
  } catch {
    field.focus();
    field.select();
    status.textContent = `Copying was blocked by the browser: the ${what.toLowerCase()} is selected, press Ctrl+C (or ⌘C) to copy it.`;
  }
}

/**
 * Shows a message in an `aria-live` region, re-announcing it even when the text is unchanged.
 *
 * @param region - the live region
 * @param text - the sentence, or `''` to clear
 */
export function announce(region: HTMLElement, text: string): void {
  region.textContent = '';
  if (text) requestAnimationFrame(() => (region.textContent = text));
}

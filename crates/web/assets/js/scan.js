// Keyboard-wedge ID scanners. A scanner "types" the PDF417 payload very fast into whatever has focus:
// `@`, then line breaks (the standard's LF, RS and CR often arrive as Enter, or not at all), then
// `ANSI 636…` and the data elements, ending with Enter or Tab. The payload goes to the server to read;
// nothing here parses it beyond recognising that it is one.

/** Looks like an AAMVA DL/ID payload (or the start of one). */
export function looksLikeAamva(text) {
  const t = String(text || '');
  return /^\s*@/.test(t) && /(ANSI|AAMVA)\s?\d{6}/.test(t);
}

/** Keys faster than this apart are a scanner, not a person. */
const BURST_GAP_MS = 60;
/** The payload is complete when no key has arrived for this long. */
const IDLE_MS = 250;

/**
 * Watches a textarea that a scanner types into. Calls `onPayload(text)` once the burst ends (idle, or
 * Tab) and the text is an AAMVA payload. Enter inside the payload is kept as a line break.
 */
export function attachScanField(textarea, onPayload) {
  let timer = null;
  const finish = () => {
    clearTimeout(timer);
    timer = null;
    const text = textarea.value;
    if (looksLikeAamva(text)) onPayload(text);
  };
  textarea.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(finish, IDLE_MS);
  });
  textarea.addEventListener('keydown', (e) => {
    if (e.key === 'Tab' && looksLikeAamva(textarea.value)) {
      e.preventDefault();
      finish();
    }
  });
  return { finish };
}

function isEditable(el) {
  return el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));
}

/**
 * Catches a scan when nothing editable has focus (a budtender on a profile scans the next customer's ID):
 * a burst starting with `@` is collected and handed to `onPayload`. Ordinary typing is left alone.
 */
export function installGlobalScanner(onPayload) {
  let buffer = null;
  let last = 0;
  let timer = null;
  const done = () => {
    const text = buffer;
    buffer = null;
    clearTimeout(timer);
    if (text && looksLikeAamva(text)) onPayload(text);
  };
  document.addEventListener('keydown', (e) => {
    if (isEditable(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
    const now = performance.now();
    if (buffer === null) {
      if (e.key !== '@') return;
      buffer = '@';
      last = now;
      e.preventDefault();
      timer = setTimeout(done, IDLE_MS);
      return;
    }
    if (now - last > BURST_GAP_MS * 10) {
      // Too slow to be a scanner: give the keys back to the page.
      buffer = null;
      clearTimeout(timer);
      return;
    }
    last = now;
    e.preventDefault();
    clearTimeout(timer);
    if (e.key === 'Enter') buffer += '\n';
    else if (e.key === 'Tab') return done();
    else if (e.key.length === 1) buffer += e.key;
    timer = setTimeout(done, IDLE_MS);
  }, true);
}

// Progressive enhancement for the code fields (the entry page's, and the confirmation page's
// when the code must be typed): formats what is typed or pasted as XXXX-XXXX, keeping the caret
// after the same letter. The page works without it; the server accepts any case, spacing and
// dashes. Loaded as an external file under the CSP (no inline script).
for (const input of [document.getElementById('user_code'), document.getElementById('typed_code')]) {
  if (!input) continue;
  const LENGTH = 8;
  const HALF = 4;
  const letters = (value) => value.toUpperCase().replace(/[^A-Z]/g, '');
  const format = (value) => {
    const code = letters(value).slice(0, LENGTH);
    return code.length > HALF ? `${code.slice(0, HALF)}-${code.slice(HALF)}` : code;
  };
  /** Where the caret goes in `formatted` to sit after `count` letters. */
  const caretAfter = (formatted, count, typing) => {
    let position = 0;
    let seen = 0;
    while (position < formatted.length && seen < count) {
      if (formatted[position] !== '-') seen++;
      position++;
    }
    // Typing the fourth letter moves on past the dash, so the next letter lands after it.
    if (typing && formatted[position] === '-') position++;
    return position;
  };
  input.addEventListener('input', (event) => {
    const caret = input.selectionStart ?? input.value.length;
    const before = letters(input.value.slice(0, caret)).length;
    const formatted = format(input.value);
    if (formatted === input.value) return;
    input.value = formatted;
    const typing = typeof event.inputType === 'string' && event.inputType.startsWith('insert');
    const position = caretAfter(formatted, before, typing);
    input.setSelectionRange(position, position);
  });
  // A value from the server (a pre-filled or re-shown code) gets the same shape.
  if (input.value) input.value = format(input.value) || input.value;
}

// Times of earlier logins: the server writes them in UTC (it cannot know the reader's time zone)
// inside <time datetime="…">; here they are rewritten in the page's language and the browser's
// time zone, which is named. The options are the server's (WHEN_FORMAT in src/views/user-agent.ts).
for (const time of document.querySelectorAll('time.local-time[datetime]')) {
  const at = new Date(time.getAttribute('datetime'));
  if (Number.isNaN(at.getTime())) continue;
  try {
    time.textContent = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
      year: 'numeric',
      month: 'long',
      day: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
      timeZoneName: 'short',
    }).format(at);
  } catch {
    // An unknown language or zone: the UTC text the server wrote stays.
  }
}

// Progressive enhancement for the code field: formats what is typed or pasted as XXXX-XXXX.
// The page works without it; the server accepts any case, spacing and dashes.
(() => {
  const input = document.getElementById('user_code');
  if (!input) return;
  const ALPHABET = /[^BCDFGHJKLMNPQRSTVWXZ]/g;
  const format = (value) => {
    const letters = value.toUpperCase().replace(ALPHABET, '').slice(0, 8);
    return letters.length > 4 ? `${letters.slice(0, 4)}-${letters.slice(4)}` : letters;
  };
  input.addEventListener('input', () => {
    const atEnd = input.selectionStart === input.value.length;
    const formatted = format(input.value);
    if (formatted !== input.value) {
      input.value = formatted;
      if (atEnd) input.setSelectionRange(formatted.length, formatted.length);
    }
  });
  if (input.value) input.value = format(input.value) || input.value;
})();

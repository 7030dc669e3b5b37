import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { escapeHtml, html, raw, SafeHtml } from '../../src/views/html.js';

describe('escapeHtml', () => {
  test('escapes the five characters that matter in content and quoted attributes', () => {
    assert.equal(
      escapeHtml(`<a href="x" title='y'>&</a>`),
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  test('escapes & first, so entities are not double-decoded', () => {
    assert.equal(escapeHtml('&lt;'), '&amp;lt;');
  });

  test('leaves other text alone', () => {
    assert.equal(escapeHtml('BCDF-GHJK é 🔑 / = `'), 'BCDF-GHJK é 🔑 / = `');
  });
});

describe('html tag', () => {
  test('returns SafeHtml whose string form is the markup', () => {
    const out = html`<p>hi</p>`;
    assert.ok(out instanceof SafeHtml);
    assert.equal(out.value, '<p>hi</p>');
    assert.equal(String(out), '<p>hi</p>');
    assert.equal(`${out}`, '<p>hi</p>');
  });

  test('escapes interpolated strings in content', () => {
    const evil = '<script>alert("x")</script>';
    assert.equal(html`<p>${evil}</p>`.value, '<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>');
  });

  test('escapes interpolated strings in attributes, so quotes cannot break out', () => {
    const value = `" onmouseover="alert(1)`;
    assert.equal(html`<input value="${value}">`.value, '<input value="&quot; onmouseover=&quot;alert(1)">');
    assert.equal(html`<input value='${"' x='y"}'>`.value, `<input value='&#39; x=&#39;y'>`);
  });

  test('numbers and true are printed; null, undefined and false print nothing', () => {
    assert.equal(html`${1}|${0}|${true}|${null}|${undefined}|${false}`.value, '1|0|true|||');
  });

  test('nested html is not escaped again', () => {
    const inner = html`<b>${'<i>'}</b>`;
    assert.equal(html`<p>${inner}</p>`.value, '<p><b>&lt;i&gt;</b></p>');
    const deeper = html`<div>${html`<p>${inner}</p>`}</div>`;
    assert.equal(deeper.value, '<div><p><b>&lt;i&gt;</b></p></div>');
  });

  test('arrays are joined without separators, each item escaped or kept as SafeHtml', () => {
    const items = ['a&b', '<c>'];
    assert.equal(
      html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`.value,
      '<ul><li>a&amp;b</li><li>&lt;c&gt;</li></ul>',
    );
    assert.equal(html`${['<x>', html`<y>`, 3, null, ['<z>']]}`.value, '&lt;x&gt;<y>3&lt;z&gt;');
    assert.equal(html`[${[]}]`.value, '[]');
  });

  test('a string that looks like SafeHtml output is still escaped', () => {
    const already = html`<b>x</b>`.value; // a plain string now
    assert.equal(html`${already}`.value, '&lt;b&gt;x&lt;/b&gt;');
  });

  test('raw passes trusted markup through unchanged', () => {
    const trusted = raw('<svg aria-hidden="true"></svg>');
    assert.ok(trusted instanceof SafeHtml);
    assert.equal(html`<span>${trusted}</span>`.value, '<span><svg aria-hidden="true"></svg></span>');
  });

  test('the literal parts of the template are never escaped', () => {
    assert.equal(html`<a href="/x?a=1&b=2">${'&'}</a>`.value, '<a href="/x?a=1&b=2">&amp;</a>');
  });
});

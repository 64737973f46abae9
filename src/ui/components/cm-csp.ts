/**
 * CodeMirror's styles under the server's CSP (`style-src 'self'`, no inline <style>).
 *
 * CodeMirror injects its base theme through style-mod, which uses a constructed stylesheet
 * (adoptedStyleSheets, allowed by CSP) only for roots without a `head` — shadow roots — and a
 * <style> element for a document, which CSP blocks ("Applying inline style violates…") so the
 * editor would lose its layout. style-mod keeps one style set per root, created at the first
 * mount: this module makes that first mount, for `document`, while `document.head` reads as
 * null, so the set it keeps is the adopted sheet. Every editor mounted later (query bars, the
 * pipeline editor) reuses it. Import it before creating an EditorView (query-bar.tsx does).
 */
import { StyleModule } from 'style-mod';

function adoptStyleModules(): void {
  if (typeof document === 'undefined' || !('adoptedStyleSheets' in document)) return;
  Object.defineProperty(document, 'head', { configurable: true, value: null });
  try {
    StyleModule.mount(document, []);
  } finally {
    // Removes the own property: `document.head` is Document.prototype's getter again.
    delete (document as unknown as Record<string, unknown>).head;
  }
}

adoptStyleModules();

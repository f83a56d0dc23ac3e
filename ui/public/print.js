// The statement page's print button. A file of its own, because the
// Content-Security-Policy forbids inline scripts and handlers.
document.querySelector('[data-print]')?.addEventListener('click', () => window.print());

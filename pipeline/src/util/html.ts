/** Text or attribute value for HTML (the site, job summaries, pull-request comments). */
export function escapeHtml(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);
}

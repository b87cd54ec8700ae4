/** Engine files the site commands read, by their path in the checkout (the SEA asset keys). */
export const SEA_ASSETS = ['pipeline/src/web/assets/site.css', 'pipeline/src/web/assets/site.js', 'node_modules/mermaid/dist/mermaid.min.js'] as const;

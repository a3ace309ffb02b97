// Svelte's defaults (runes mode, Vite's own CSS handling); the file only tells the plugin so.
export default {};

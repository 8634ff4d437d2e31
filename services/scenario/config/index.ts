// API-side editing of the scenario module's configuration with the site file's rules.
export { SiteEditor, type EditorOptions } from './site-editor.js';

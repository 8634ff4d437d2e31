// Base of every page: the logged-in user and the language (a change of language re-renders the page).
import { LitElement } from 'lit';
import type { SessionUser } from '../data/session.js';
import { pageStyles } from './styles.js';

export class PageElement extends LitElement {
  static override properties = { user: { attribute: false }, lang: { attribute: false } };
  static override styles = [pageStyles];
  declare user: SessionUser;
  declare lang: string;
}

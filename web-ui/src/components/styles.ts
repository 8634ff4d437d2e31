// Shared look of every page: WCAG AA contrast, visible focus, tables and forms that fit a phone's width.
import { css } from 'lit';

export const pageStyles = css`
  :host {
    display: block;
    color: #1b2430;
  }
  h1 {
    font-size: 1.5rem;
    margin: 0 0 1rem;
  }
  h2 {
    font-size: 1.15rem;
    margin: 0 0 0.75rem;
  }
  section.card {
    background: #fff;
    border: 1px solid #d5dbe3;
    border-radius: 8px;
    padding: 1rem;
    margin-bottom: 1rem;
    min-width: 0;
  }
  .grid {
    display: grid;
    grid-template-columns: repeat(auto-fit, minmax(280px, 1fr));
    gap: 1rem;
  }
  table {
    border-collapse: collapse;
    width: 100%;
    font-size: 0.95rem;
  }
  th,
  td {
    text-align: left;
    padding: 0.45rem 0.5rem;
    border-bottom: 1px solid #e3e8ee;
    vertical-align: middle;
    overflow-wrap: anywhere;
  }
  th {
    font-weight: 600;
    color: #3a4655;
    overflow-wrap: normal;
  }
  .empty {
    color: #4a5666;
    font-style: italic;
    margin: 0.5rem 0;
  }
  form.inline {
    display: flex;
    flex-wrap: wrap;
    gap: 0.75rem;
    align-items: flex-end;
  }
  .field {
    display: flex;
    flex-direction: column;
    gap: 0.25rem;
    min-width: 10rem;
  }
  label {
    font-weight: 600;
    font-size: 0.9rem;
  }
  input,
  select,
  textarea,
  button {
    font: inherit;
  }
  input:not([type='checkbox']),
  select,
  textarea {
    padding: 0.4rem 0.5rem;
    border: 1px solid #8592a3;
    border-radius: 4px;
    background: #fff;
    color: #1b2430;
  }
  input[aria-invalid='true'],
  textarea[aria-invalid='true'] {
    border-color: #b00020;
  }
  button,
  a.button {
    padding: 0.45rem 0.9rem;
    border-radius: 4px;
    border: 1px solid #1d4f91;
    background: #1d4f91;
    color: #fff;
    cursor: pointer;
    text-decoration: none;
    display: inline-block;
  }
  button.secondary,
  a.button.secondary {
    background: #fff;
    color: #1d4f91;
  }
  button.danger {
    background: #fff;
    color: #a00018;
    border-color: #a00018;
  }
  button:disabled {
    opacity: 0.6;
    cursor: default;
  }
  :focus-visible {
    outline: 3px solid #f2a900;
    outline-offset: 2px;
  }
  .error {
    color: #b00020;
    font-size: 0.9rem;
  }
  .notice {
    background: #fff6d6;
    border: 1px solid #c99a00;
    border-radius: 4px;
    padding: 0.5rem 0.75rem;
    margin: 0.5rem 0;
  }
  .success {
    background: #e6f4ea;
    border: 1px solid #2e7d32;
    border-radius: 4px;
    padding: 0.5rem 0.75rem;
    margin: 0.5rem 0;
    word-break: break-all;
  }
  .row-actions {
    display: flex;
    flex-wrap: wrap;
    gap: 0.35rem;
  }
  .badge {
    display: inline-block;
    padding: 0.1rem 0.5rem;
    border-radius: 999px;
    font-size: 0.85rem;
    background: #e3e8ee;
    color: #1b2430;
  }
  .badge.ok {
    background: #d7f0dd;
    color: #14532d;
  }
  .badge.warn {
    background: #fde8c8;
    color: #7a3e00;
  }
  .badge.bad {
    background: #fbd5d8;
    color: #7f0015;
  }
  .muted {
    color: #4a5666;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
  fieldset {
    border: 1px solid #d5dbe3;
    border-radius: 4px;
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem 1rem;
  }
  fieldset label {
    font-weight: normal;
  }
  audio {
    height: 2rem;
    max-width: 100%;
  }
`;

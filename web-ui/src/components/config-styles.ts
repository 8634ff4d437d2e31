// Look of the configuration pages (numbers, scenarios, services): cards of fields, action lists, hints.
import { css } from 'lit';

export const configStyles = css`
  .hint {
    color: #4a5666;
    font-size: 0.85rem;
    font-weight: normal;
  }
  .fields .field:has(input[type='number']) {
    min-width: 7rem;
  }
  .fields input[type='number'] {
    width: 7rem;
  }
  .fields {
    display: flex;
    flex-wrap: wrap;
    gap: 0.75rem;
    align-items: flex-start;
    margin: 0.5rem 0;
  }
  fieldset {
    margin: 0.5rem 0;
    padding: 0.5rem 0.75rem 0.75rem;
    flex-direction: column;
  }
  fieldset.row {
    flex-direction: row;
    align-items: flex-start;
  }
  fieldset .field > label {
    font-weight: 600;
  }
  legend {
    font-weight: 600;
    padding: 0 0.25rem;
  }
  label.check,
  label.radio {
    font-weight: normal;
    display: inline-flex;
    gap: 0.4rem;
    align-items: baseline;
  }
  .radio .hint {
    display: block;
  }
  .toolbar {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: flex-end;
    margin: 0.5rem 0;
  }
  button.small {
    padding: 0.2rem 0.55rem;
    font-size: 0.85rem;
  }
  ol.actions {
    list-style: none;
    margin: 0.25rem 0;
    padding: 0;
    display: flex;
    flex-direction: column;
    gap: 0.5rem;
  }
  li.action {
    border: 1px solid #c4ccd6;
    border-left: 4px solid #1d4f91;
    border-radius: 6px;
    padding: 0.5rem 0.75rem;
    background: #fbfcfe;
  }
  li.action.skipped-by-condition {
    border-left-color: #7a3e00;
  }
  li.action.dragging {
    opacity: 0.5;
  }
  li.action.drop-target {
    outline: 2px dashed #1d4f91;
  }
  .action-head {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: center;
  }
  .handle {
    cursor: grab;
    color: #4a5666;
    font-size: 1.1rem;
    user-select: none;
  }
  .step-no {
    font-weight: 700;
    min-width: 1.5rem;
  }
  .action-head .spacer {
    flex: 1;
  }
  .nested {
    margin: 0.5rem 0 0.25rem 0.75rem;
    padding-left: 0.75rem;
    border-left: 2px solid #d5dbe3;
  }
  .option {
    border: 1px solid #d5dbe3;
    border-radius: 6px;
    padding: 0.5rem;
    margin: 0.5rem 0;
    background: #fff;
  }
  .queue-hint {
    background: #eef4fb;
    border: 1px solid #9bb7dc;
    border-radius: 4px;
    padding: 0.35rem 0.6rem;
    margin: 0.35rem 0;
    font-size: 0.9rem;
  }
  ol.path {
    padding-left: 1.5rem;
    margin: 0.5rem 0;
  }
  ol.path li {
    margin: 0.3rem 0;
  }
  ol.path li.skipped {
    color: #4a5666;
  }
  .stale {
    background: #fff6d6;
    border: 1px solid #c99a00;
    border-radius: 4px;
    padding: 0.5rem 0.75rem;
    margin: 0.5rem 0;
  }
  @media (max-width: 760px) {
    .fields {
      flex-direction: column;
    }
    .field {
      min-width: 0;
      width: 100%;
    }
    input:not([type='checkbox']):not([type='radio']),
    select {
      max-width: 100%;
      box-sizing: border-box;
    }
  }
`;

// The message-summary event package body (RFC 3842 application/simple-message-summary) for MWI lamps.

export const MESSAGE_SUMMARY_TYPE = 'application/simple-message-summary';

export interface MailboxState {
  newMessages: number;
  oldMessages: number;
}

/**
 * RFC 3842 §5.2:
 *   Messages-Waiting: yes
 *   Message-Account: sip:alice@vmail.example.com
 *   Voice-Message: 4/8 (1/2)
 * The counts in parentheses are the urgent ones; Relais has no urgent messages.
 */
export function formatMessageSummary(account: string, box: MailboxState): string {
  const waiting = box.newMessages > 0 ? 'yes' : 'no';
  return `Messages-Waiting: ${waiting}\r\nMessage-Account: ${account}\r\nVoice-Message: ${box.newMessages}/${box.oldMessages} (0/0)\r\n`;
}

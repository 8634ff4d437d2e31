// The ng control protocol to rtpengine (over UDP, bencoded, via rtpengine-client): typed commands, errors as MediaError.
import rtpengineClient from 'rtpengine-client';
import type { Client as NgClientImpl, NgParams, NgResponse } from 'rtpengine-client';
import { MediaError } from '../engine.js';

export type NgCommand =
  | 'ping'
  | 'offer'
  | 'answer'
  | 'delete'
  | 'query'
  | 'startRecording'
  | 'stopRecording'
  | 'playDTMF'
  | 'blockMedia'
  | 'unblockMedia'
  | 'playMedia'
  | 'stopMedia';

/** What a request said on the wire, for tests and logs. */
export interface NgExchange {
  command: NgCommand;
  params: NgParams;
  response: NgResponse | undefined;
  error: string | undefined;
}

export class NgClient {
  private client: NgClientImpl | undefined;
  private ready: Promise<void> | undefined;
  /** Last exchanges (bounded), newest last. */
  readonly history: NgExchange[] = [];

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly timeoutMs = 3000,
  ) {}

  open(): Promise<void> {
    this.ready ??= new Promise((resolve, reject) => {
      const c = new rtpengineClient.Client({ timeout: this.timeoutMs });
      this.client = c;
      c.once('listening', () => resolve());
      c.once('error', (err: Error) => reject(new MediaError('media.rtpengine', `rtpengine control socket: ${err.message}`)));
      // Late replies to timed-out requests and decode errors are reported by the library as 'error'; they are not fatal.
      c.on('error', () => {});
    });
    return this.ready;
  }

  /** Sends one ng command; a "result: error" answer or a timeout rejects with MediaError naming the command. */
  async send(command: NgCommand, params: NgParams = {}): Promise<NgResponse> {
    await this.open();
    const dest = { host: this.host, port: this.port };
    const entry: NgExchange = { command, params, response: undefined, error: undefined };
    this.history.push(entry);
    if (this.history.length > 200) this.history.shift();
    let res: NgResponse;
    try {
      res = await (this.client![command] as (d: typeof dest, p: NgParams) => Promise<NgResponse>).call(this.client, dest, params);
    } catch (err) {
      entry.error = err instanceof Error ? err.message : String(err);
      throw new MediaError('media.rtpengine', `rtpengine ${this.host}:${this.port} did not answer "${command}": ${entry.error}`, { cause: err });
    }
    entry.response = res;
    if (res.result === 'error') {
      entry.error = String(res['error-reason'] ?? 'unknown error');
      throw new MediaError('media.rtpengine', `rtpengine refused "${command}": ${entry.error}`);
    }
    return res;
  }

  close(): void {
    try {
      this.client?.close();
    } catch {
      /* already closed */
    }
    this.client = undefined;
    this.ready = undefined;
  }
}

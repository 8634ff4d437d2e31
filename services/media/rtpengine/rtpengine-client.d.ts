// Types for the parts of the rtpengine-client package (CommonJS, untyped) that the backend uses.
declare module 'rtpengine-client' {
  import type { EventEmitter } from 'node:events';

  export type NgValue = string | number | Buffer | NgValue[] | { [key: string]: NgValue };
  export type NgParams = { [key: string]: NgValue | undefined };
  export type NgResponse = { result?: string; 'error-reason'?: string; warning?: string; [key: string]: unknown };
  export interface NgDestination {
    port: number;
    host: string;
  }

  export class Client extends EventEmitter {
    constructor(opts?: { localPort?: number; localAddress?: string; timeout?: number; rejectOnFailure?: boolean });
    ping(dest: NgDestination, params?: NgParams): Promise<NgResponse>;
    offer(dest: NgDestination, params: NgParams): Promise<NgResponse>;
    answer(dest: NgDestination, params: NgParams): Promise<NgResponse>;
    delete(dest: NgDestination, params: NgParams): Promise<NgResponse>;
    query(dest: NgDestination, params: NgParams): Promise<NgResponse>;
    startRecording(dest: NgDestination, params: NgParams): Promise<NgResponse>;
    stopRecording(dest: NgDestination, params: NgParams): Promise<NgResponse>;
    playDTMF(dest: NgDestination, params: NgParams): Promise<NgResponse>;
    blockMedia(dest: NgDestination, params: NgParams): Promise<NgResponse>;
    unblockMedia(dest: NgDestination, params: NgParams): Promise<NgResponse>;
    playMedia(dest: NgDestination, params: NgParams): Promise<NgResponse>;
    stopMedia(dest: NgDestination, params: NgParams): Promise<NgResponse>;
    statistics(dest: NgDestination, params?: NgParams): Promise<NgResponse>;
    close(): void;
  }
}

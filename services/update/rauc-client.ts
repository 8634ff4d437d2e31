// RAUC's D-Bus API (de.pengutronix.rauc.Installer on object "/"), through dbus-next (pure JS).
import { sessionBus, systemBus, type ClientInterface, type MessageBus, type Variant } from 'dbus-next';

export const RAUC_BUS_NAME = 'de.pengutronix.rauc';
export const RAUC_INSTALLER = 'de.pengutronix.rauc.Installer';

/** One slot as GetSlotStatus() reports it (the keys RAUC fills: state, boot-status, bundle.version, …). */
export interface SlotStatus {
  name: string;
  class: string;
  bootname: string | undefined;
  /** booted, active or inactive */
  state: string;
  /** good or bad (from the bootloader) */
  bootStatus: string | undefined;
  bundleVersion: string | undefined;
}

export interface RaucProgress {
  percent: number;
  message: string;
  depth: number;
}

/** What the update agent needs from RAUC; tests of the agent's logic may give their own. */
export interface Rauc {
  compatible(): Promise<string>;
  bootSlot(): Promise<string>;
  slots(): Promise<SlotStatus[]>;
  /** Verifies the bundle (signature against the keyring, format) and reads its manifest. */
  info(bundle: string): Promise<{ compatible: string; version: string }>;
  /** Installs into the inactive slot; resolves with RAUC's result when Completed is signalled (0 = success). */
  install(bundle: string, onProgress: (p: RaucProgress) => void): Promise<{ result: number; lastError: string }>;
  /** Mark(state, slot): good/bad/active of booted/other/<slot name>. */
  mark(state: 'good' | 'bad' | 'active', slot: string): Promise<{ slot: string; message: string }>;
  close(): void;
}

function str(v: Variant | undefined): string | undefined {
  return v && typeof v.value === 'string' ? v.value : undefined;
}

export class RaucDbus implements Rauc {
  private constructor(
    private readonly bus: MessageBus,
    private readonly installer: ClientInterface,
    private readonly properties: ClientInterface,
  ) {}

  /** address: 'system' for the system bus, else a D-Bus address (unix:path=…) such as a test's private bus. */
  static async connect(address: 'system' | string): Promise<RaucDbus> {
    const bus = address === 'system' ? systemBus() : sessionBus({ busAddress: address });
    try {
      const obj = await bus.getProxyObject(RAUC_BUS_NAME, '/');
      return new RaucDbus(bus, obj.getInterface(RAUC_INSTALLER), obj.getInterface('org.freedesktop.DBus.Properties'));
    } catch (err) {
      bus.disconnect();
      throw err;
    }
  }

  private async property(name: string): Promise<unknown> {
    const v = (await this.properties.Get!(RAUC_INSTALLER, name)) as Variant;
    return v.value;
  }

  async compatible(): Promise<string> {
    return String(await this.property('Compatible'));
  }

  async bootSlot(): Promise<string> {
    return String(await this.property('BootSlot'));
  }

  async slots(): Promise<SlotStatus[]> {
    const list = (await this.installer.GetSlotStatus!()) as [string, Record<string, Variant>][];
    return list.map(([name, d]) => ({
      name,
      class: str(d.class) ?? name.split('.')[0]!,
      bootname: str(d.bootname),
      state: str(d.state) ?? 'unknown',
      bootStatus: str(d['boot-status']),
      bundleVersion: str(d['bundle.version']),
    }));
  }

  async info(bundle: string): Promise<{ compatible: string; version: string }> {
    const [compatible, version] = (await this.installer.Info!(bundle)) as [string, string];
    return { compatible, version };
  }

  install(bundle: string, onProgress: (p: RaucProgress) => void): Promise<{ result: number; lastError: string }> {
    return new Promise((resolve, reject) => {
      const progress = (iface: string, changed: Record<string, Variant>): void => {
        const p = changed.Progress?.value as [number, string, number] | undefined;
        if (iface === RAUC_INSTALLER && p) onProgress({ percent: p[0], message: p[1], depth: p[2] });
      };
      const completed = (result: number): void => {
        this.installer.off('Completed', completed);
        this.properties.off('PropertiesChanged', progress);
        // LastError holds the reason of a failed install (empty on success).
        void this.property('LastError').then(
          (e) => resolve({ result, lastError: String(e ?? '') }),
          () => resolve({ result, lastError: '' }),
        );
      };
      // Subscribed before the call, so a fast install's Completed is never missed.
      this.properties.on('PropertiesChanged', progress);
      this.installer.on('Completed', completed);
      (this.installer.InstallBundle!(bundle, {}) as Promise<void>).catch((err: unknown) => {
        this.installer.off('Completed', completed);
        this.properties.off('PropertiesChanged', progress);
        reject(err);
      });
    });
  }

  async mark(state: 'good' | 'bad' | 'active', slot: string): Promise<{ slot: string; message: string }> {
    const [name, message] = (await this.installer.Mark!(state, slot)) as [string, string];
    return { slot: name, message };
  }

  close(): void {
    this.bus.disconnect();
  }
}

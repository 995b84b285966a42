import type { DeviceConfig } from './config';
import { LinkTimeout, verifyFailed } from './errors';
import { SerialLink } from './serial-link';

type Verify = NonNullable<DeviceConfig['verify']>;

/** Reads the console until the configured boot line (after writing `send`, if configured). */
export async function waitForBootLine(link: SerialLink, verify: Verify): Promise<string> {
  if (verify.send) {
    link.markLines();
    await link.write(`${verify.send}\n`);
  }
  try {
    return (await link.waitForLine(new RegExp(verify.bootLine), verify.timeoutMs)).line;
  } catch (err) {
    if (!(err instanceof LinkTimeout)) throw err;
    throw verifyFailed(`no boot line matching /${verify.bootLine}/ within ${verify.timeoutMs} ms`, {
      lastLines: link.recent.slice(-10),
    });
  }
}

/** For uploaders that do not talk over the serial port themselves: open it afterwards and verify. */
export async function verifyOverConsole(device: DeviceConfig, signal: AbortSignal): Promise<string | undefined> {
  if (!device.verify || !device.serialPath) return undefined;
  const link = await SerialLink.open(device.serialPath, device.baudRate, signal);
  try {
    return await waitForBootLine(link, device.verify);
  } finally {
    await link.close();
  }
}

// The systemd test container for a bench (bench/dbus-*.ts): booted, measured in, stopped
// whatever happens; undefined (and exit code 1) when this machine cannot run it.
import { bootContainer, missingPrerequisite, type Container } from '../../test/systemd/container.js';

export async function inContainer<T>(measure: (ct: Container) => Promise<T>, log: (m: string) => void): Promise<T | undefined> {
  const problem = missingPrerequisite();
  if (problem) {
    log(`cannot run: ${problem}`);
    process.exitCode = 1;
    return undefined;
  }
  const ct = await bootContainer({ log: (l) => log(`container: ${l}`) });
  try {
    return await measure(ct);
  } finally {
    await ct.stop();
  }
}

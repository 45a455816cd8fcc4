/**
 * A real systemd for tests: a Debian bookworm container booted with
 * systemd-nspawn. See test/systemd/README.md for the why of every step.
 *
 *   const gate = requirementsGate();
 *   describe('x', { skip: gate.skip ?? false }, () => {
 *     let ct: Container;
 *     before(async () => { ct = await bootContainer({ failure: gate.failure }); }, { timeout: BOOT_HOOK_TIMEOUT_MS });
 *     after(async () => { await ct?.stop(); });
 *     it('...', async () => { await ct.execOk(['systemctl', 'start', 'foo']); });
 *   });
 *
 * - The rootfs is built once per recipe with debootstrap and cached in
 *   CACHE_DIR/rootfs-<hash> (outside the repo, kept between runs); the hash
 *   covers build-rootfs.sh and the package list.
 * - Each container boots a throwaway overlayfs (upper dir on a tmpfs) of that
 *   cache, inside a private mount namespace: no host mount is ever made.
 * - --private-network: the container has only its own loopback; the root
 *   network namespace is not touched.
 * - Node inside: the host's /usr/bin/node is bind-mounted read-only at
 *   /usr/local/bin/node (host and container are both bookworm, so its
 *   libc/libstdc++ links resolve to the same library versions).
 *
 * This file is the harness's one entry point; its parts, one concern each, are in
 * harness/: gate.ts (can the tests run here), rootfs.ts (the rootfs cache),
 * cgroups.ts (the containers' cgroups and their cleanup), runs.ts (run dirs, stale
 * runs, host leftovers), container.ts (the Container class), host.ts (processes,
 * /proc, mounts).
 */
export { BOOT_HOOK_TIMEOUT_MS, type Bind, bootContainer, type BootOptions, Container, props, type StopReport, type Timings } from './harness/container.js';
export { type Gate, missingPrerequisite, REQUIRED_TOOLS, requirementsGate } from './harness/gate.js';
export type { ExecResult, Log } from './harness/host.js';
export { CACHE_DIR, CACHE_MAX_IDLE_MS, DEFAULT_PACKAGES, ensureRootfs, MIRROR, type RootfsInfo, type RootfsOptions, rootfsPath } from './harness/rootfs.js';
export { hostLeftovers, reapStaleRuns, RUN_ROOT } from './harness/runs.js';

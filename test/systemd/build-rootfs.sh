#!/bin/sh
# Builds the cached Debian bookworm rootfs that test/systemd/container.ts boots
# with systemd-nspawn. Called by container.ts as
#
#   unshare --mount --propagation private -- \
#     flock <cache>/.build.lock sh build-rootfs.sh <final-dir> <mirror> <pkg,pkg,...>
#
# Exit 0: built; 10: another process built it while we waited for the lock.
# * <final-dir> is <cache>/rootfs-<hash>, where <hash> covers this file's text
#   and the package list, so any change to the recipe builds a new cache entry.
# * The tree is built in <final-dir>.tmp.XXXXXX on the same file system and
#   rename(2)d into place only when complete: a killed build never leaves a
#   half cache, only a .tmp.* directory that the next build removes (it holds
#   the lock, so no other build is using it).
# * The private mount namespace means the /proc, /sys, /dev mounts debootstrap
#   makes inside the target vanish with this process, even when it is killed.
set -eu

final=$1
mirror=$2
packages=$3

if [ -d "$final" ]; then
  echo "build-rootfs: $final already built (another build held the lock)"
  exit 10
fi

cache=$(dirname "$final")
# Leftovers of killed builds (we hold the lock: nobody else is building).
for stale in "$cache"/rootfs-*.tmp.*; do
  [ -e "$stale" ] || continue
  echo "build-rootfs: removing stale partial build $stale"
  rm -rf --one-file-system "$stale"
done

tmp=$(mktemp -d "$final.tmp.XXXXXX")
trap 'rm -rf --one-file-system "$tmp"' EXIT INT TERM
root=$tmp/root

echo "build-rootfs: debootstrap bookworm into $root (packages: $packages)"
debootstrap --variant=minbase --include="$packages" bookworm "$root" "$mirror"

# --- recipe steps after debootstrap (their text is part of the cache hash) ---

# Empty machine-id: every boot gets a fresh transient one (nspawn passes
# container_uuid); firstboot is masked so an empty id never prompts.
: >"$root/etc/machine-id"
# debootstrap copies the build host's /etc/hostname; without one, the
# container keeps the hostname nspawn gives it (the machine name).
rm -f "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
# Volatile journal (/run/log/journal): fast, and gone with the container.
rm -rf "$root/var/log/journal"

# Units that only add noise, wait on hardware or prompt on the console.
systemctl --root="$root" mask \
  systemd-firstboot.service console-getty.service getty@tty1.service \
  apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
  e2scrub_all.timer e2scrub_reap.service fstrim.timer >/dev/null 2>&1 || true
systemctl --root="$root" set-default multi-user.target >/dev/null 2>&1

# The container has no network (--private-network): apt caches are dead weight.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

# Mount point for the host's node binary (bind-mounted read-only at boot).
mkdir -p "$root/usr/local/bin"
: >"$root/usr/local/bin/node"
chmod 0755 "$root/usr/local/bin/node"

basename "$final" >"$root/etc/ha-watchdog-test-rootfs"

mv -T "$root" "$final"
echo "build-rootfs: done: $final"

#!/bin/sh
# Boots one throwaway container of the cached rootfs. Called by container.ts as
#
#   HWT_CGROUPS="<dir> <dir>" unshare --mount --propagation private -- \
#     sh boot-container.sh <run-dir> <cached-rootfs> <systemd-nspawn args...>
#
# Everything this script mounts lives only in the private mount namespace that
# unshare made, so the host's mount table never changes and every mount here
# disappears by itself when systemd-nspawn (the last process of the namespace)
# exits, however it ends:
#   <run-dir>/scratch         tmpfs holding the overlay's upper and work dirs
#   <run-dir>/merged          overlayfs: lower = the cached rootfs (never
#                             written), upper = the tmpfs; nspawn boots this
#   /run/systemd/nspawn       tmpfs. /run is not a tmpfs on these machines, and
#                             nspawn refuses to clean up its propagate dir on a
#                             disk file system ("Attempted to remove disk file
#                             system under /run/systemd/nspawn/propagate"), so
#                             without this a stale dir is left on the host.
#                             Shadowed privately, so an existing host mount
#                             there (if any) is neither used nor changed.
#
# HWT_CGROUPS lists fresh per-container cgroup dirs (made by container.ts, one
# per cgroup hierarchy that nspawn uses). Moving this process there first makes
# nspawn --keep-unit create its payload/ and supervisor/ groups inside them
# instead of in the shared parent, so two containers never share a cgroup and
# container.ts can remove exactly what was created.
#
# setpriv --pdeathsig: if the test process dies without stopping the container,
# nspawn gets SIGTERM, which it turns into a clean poweroff of the container.
set -eu

run=$1
lower=$2
shift 2

for cg in ${HWT_CGROUPS:-}; do
  echo $$ >"$cg/cgroup.procs"
done

mount -t tmpfs -o mode=0755,size=4g hwt-scratch "$run/scratch"
mkdir "$run/scratch/upper" "$run/scratch/work"
mount -t overlay hwt-root \
  -o "lowerdir=$lower,upperdir=$run/scratch/upper,workdir=$run/scratch/work" \
  "$run/merged"

mkdir -p /run/systemd/nspawn
mount -t tmpfs -o mode=0755,size=16m hwt-nspawn /run/systemd/nspawn

exec setpriv --pdeathsig TERM -- systemd-nspawn -D "$run/merged" "$@"

#!/usr/bin/env bash
# slurm-cluster.sh — bring up a single-node Slurm cluster on localhost.
#
# Target: a fresh Debian 12 (bookworm) machine, running as root, WITHOUT
# systemd (containers / CI VMs). Slurm there is 22.05.x.
#
# Usage:
#   .ci/slurm-cluster.sh          # install (if needed), configure, start, wait until idle
#   .ci/slurm-cluster.sh start    # same as above
#   .ci/slurm-cluster.sh stop     # stop slurmctld + slurmd + munged
#   .ci/slurm-cluster.sh status   # show daemons / sinfo
#
# Idempotent: running "start" again on a live cluster re-checks everything,
# starts only what is not running, and (only if slurm.conf changed) runs
# `scontrol reconfigure`. It never wipes job state.
#
# Environment knobs (all optional):
#   SLURM_WAIT_SECS   how long to wait for the node to become idle (default 60)
#   SLURM_REAL_MEM    RealMemory (MB) advertised for the node (default 1024)
#   SLURM_KEEP_STATE  =1: when slurmctld has to be (re)started, recover the
#                     saved job/node state instead of starting clean (-c)
set -euo pipefail

ACTION="${1:-start}"
WAIT_SECS="${SLURM_WAIT_SECS:-60}"
REAL_MEM="${SLURM_REAL_MEM:-1024}"

# Debian's packages read /etc/slurm/slurm.conf (since 20.11 it is no longer
# /etc/slurm-llnl). Logs/state go to the usual Debian locations.
CONF_DIR=/etc/slurm
CONF="$CONF_DIR/slurm.conf"
LOG_DIR=/var/log/slurm
CTLD_LOG="$LOG_DIR/slurmctld.log"
SLURMD_LOG="$LOG_DIR/slurmd.log"
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
MUNGE_KEY=/etc/munge/munge.key
MUNGE_LOG=/var/log/munge/munged.log

START_NS=$(date +%s%N)
log() { printf '[slurm-cluster] %s\n' "$*"; }
elapsed() { echo $(( ($(date +%s%N) - START_NS) / 1000000 )); }   # ms
die() {
    log "ERROR: $*"
    dump_logs
    log "failed after $(elapsed) ms"
    exit 1
}
dump_logs() {
    for f in "$MUNGE_LOG" "$CTLD_LOG" "$SLURMD_LOG"; do
        if [ -f "$f" ]; then
            echo "----- last 40 lines of $f -----"
            tail -n 40 "$f" || true
        else
            echo "----- $f: (missing) -----"
        fi
    done
    echo "----- sinfo -----"
    sinfo -N -l 2>&1 || true
}

# pid_alive PIDFILE NAME: true if PIDFILE names a live process whose command
# is NAME (guards against a stale pidfile whose pid was reused).
pid_alive() {
    local pf="$1" name="$2" pid
    [ -s "$pf" ] || return 1
    pid=$(cat "$pf" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]
}

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

# ---------------------------------------------------------------- stop/status
if [ "$ACTION" = stop ]; then
    # `scontrol shutdown` asks slurmctld to stop itself AND every slurmd
    # (it saves state first). Fall back to SIGTERM via the pidfiles.
    if scontrol ping >/dev/null 2>&1; then
        scontrol shutdown || true
    fi
    for i in $(seq 1 20); do
        pid_alive "$CTLD_PID" slurmctld || pid_alive "$SLURMD_PID" slurmd || break
        sleep 0.5
    done
    pid_alive "$CTLD_PID" slurmctld && kill "$(cat "$CTLD_PID")" || true
    pid_alive "$SLURMD_PID" slurmd && kill "$(cat "$SLURMD_PID")" || true
    # munged writes its own pidfile under /run/munge.
    pid_alive /run/munge/munged.pid munged && kill "$(cat /run/munge/munged.pid)" || true
    log "stopped ($(elapsed) ms)"
    exit 0
fi
if [ "$ACTION" = status ]; then
    pid_alive /run/munge/munged.pid munged && echo "munged: running" || echo "munged: not running"
    pid_alive "$CTLD_PID" slurmctld && echo "slurmctld: running" || echo "slurmctld: not running"
    pid_alive "$SLURMD_PID" slurmd && echo "slurmd: running" || echo "slurmd: not running"
    sinfo -N -l 2>&1 || true
    exit 0
fi
[ "$ACTION" = start ] || { echo "usage: $0 [start|stop|status]" >&2; exit 2; }

[ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 1; }

# ---------------------------------------------------------------- 1. install
# slurm-wlm = slurmctld + slurmd + slurm-client (+ munge, slurm-wlm-basic-plugins).
# slurm-wlm-basic-plugins already ships serializer_json.so and openapi_v0_0_38.so,
# which is all `squeue --json` / `sinfo --json` need on 22.05, so no extra
# plugin package. --no-install-recommends skips slurm-wlm-plugins (mysql,
# hdf5, rrd, ... ~100 MB we do not need).
PKGS=(slurm-wlm munge)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Stop maintainer scripts from trying to start daemons (no init system to
    # do it, and slurm.conf does not exist yet). Only if no policy exists.
    own_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        own_policy=1
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}" >/tmp/slurm-cluster-apt.log 2>&1 \
        || { [ $own_policy = 1 ] && rm -f /usr/sbin/policy-rc.d; cat /tmp/slurm-cluster-apt.log; die "apt-get install failed"; }
    [ $own_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
    log "installed in $(elapsed) ms"
else
    log "packages already installed"
fi

# ---------------------------------------------------------------- 2. munge
# Debian's munge postinst usually creates a key; make sure one exists with the
# ownership/mode munged insists on (owned by munge, 0400, dir 0700).
install -d -o munge -g munge -m 0700 /etc/munge
install -d -o munge -g munge -m 0711 /var/lib/munge
install -d -o munge -g munge -m 0700 /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge
if [ ! -s "$MUNGE_KEY" ]; then
    log "creating munge key"
    if command -v mungekey >/dev/null; then
        mungekey --create --keyfile="$MUNGE_KEY" --force
    else
        dd if=/dev/urandom of="$MUNGE_KEY" bs=1024 count=1 status=none
    fi
fi
chown munge:munge "$MUNGE_KEY"
chmod 0400 "$MUNGE_KEY"

if munge_ok; then
    log "munged already running"
else
    # munged daemonises itself; run it as the unprivileged munge user (it
    # refuses to run as root without --force, and there is no reason to).
    rm -f /run/munge/munged.pid
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid \
        --log-file="$MUNGE_LOG" || die "munged failed to start"
    for i in $(seq 1 20); do munge_ok && break; sleep 0.25; done
    munge_ok || die "munge credential round-trip failed"
    log "munged started"
fi

# ---------------------------------------------------------------- 3. slurm.conf
NCPU=$(nproc)
install -d -m 0755 "$CONF_DIR" "$LOG_DIR" /var/spool/slurmctld /var/spool/slurmd
NEW_CONF=$(mktemp)
cat >"$NEW_CONF" <<EOF
# Generated by .ci/slurm-cluster.sh — single-node test cluster on localhost.
ClusterName=hposim
# "localhost" is accepted by slurmctld as a controller name regardless of
# the machine's real hostname, so the config is portable between machines.
SlurmctldHost=localhost
# Run everything as root: no slurm user to create, no permission issues on
# the spool/log dirs. Fine for a throwaway CI cluster.
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
# No mail on this box; the Debian default (/usr/bin/mail) is missing and
# slurmctld logs "Configured MailProg is invalid" at every start otherwise.
MailProg=/bin/true

# No cgroups: a container/VM without systemd has no delegated cgroup tree.
# linuxproc tracks job processes via /proc parent-child links; task/none
# does no CPU binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none

# cons_tres + CR_CPU: CPUs are the consumable, so several 1-CPU jobs (or
# array tasks) run side by side. select/linear would give each job the
# whole node. Memory is not consumable (no CR_Memory), so --mem requests
# only have to fit under RealMemory.
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU

# No accounting (no slurmdbd): sacct does not work; squeue/scontrol
# only know a job until MinJobAge seconds after it ends.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none

# A finished job record is kept (visible to squeue -j / scontrol show job
# with its final JobState/ExitCode) for MinJobAge seconds (300 is the
# Slurm default; stated explicitly because executors poll for it).
MinJobAge=300
# Seconds between SIGTERM and SIGKILL on scancel / time limit (default 30).
KillWait=10
# Bring a node that was DOWN (e.g. after a crash of slurmd) back by itself
# as soon as it registers with a valid configuration.
ReturnToService=2
# Reject at submit time jobs that can never run here (e.g. -c 8 on a 2-CPU
# node) instead of leaving them PENDING forever with Reason=PartitionConfig.
EnforcePartLimits=ALL
# Never silently re-run a batch job (after a node failure / slurmctld
# restart with saved state): the executor should see it fail instead.
JobRequeue=0

# Scheduling latency: job submission already triggers an immediate
# scheduling attempt; these keep the periodic passes short too.
#  sched_interval=2      main scheduler loop every 2 s (default 60)
#  batch_sched_delay=0   do not defer scheduling of batch jobs (default 3)
#  sched_min_interval=0  allow back-to-back scheduling passes
#  bf_interval=5         backfill pass every 5 s (default 30)
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,batch_sched_delay=0,sched_min_interval=0,bf_interval=5
MessageTimeout=10
SlurmdTimeout=300
SlurmctldTimeout=120
InactiveLimit=0
Waittime=0

SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$CTLD_LOG
SlurmdLogFile=$SLURMD_LOG
SlurmctldDebug=info
SlurmdDebug=info
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPort=6817
SlurmdPort=6818

# No GresTypes and no Gres= on the node: there are no GPUs. Consequence:
# \`sbatch --gres=gpu:1\` is REJECTED at submit time with
# "Invalid generic resource (gres) specification" (exit 1, no job id).
# To accept it one would add GresTypes=gpu, Gres=gpu:N on the NodeName line
# and a gres.conf (with real /dev/nvidia* files, or AutoDetect=off plus
# fake File= entries).

# CPUs from nproc; RealMemory kept modest so it is always <= the machine's
# real memory (slurmd drains a node advertising more than it has).
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$NCPU RealMemory=$REAL_MEM State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
conf_changed=0
if ! cmp -s "$NEW_CONF" "$CONF"; then
    install -m 0644 "$NEW_CONF" "$CONF"
    conf_changed=1
    log "wrote $CONF"
fi
rm -f "$NEW_CONF"

# ---------------------------------------------------------------- 4. daemons
# Both daemons fork into the background on their own (no -D).
if pid_alive "$CTLD_PID" slurmctld; then
    log "slurmctld already running"
    if [ $conf_changed = 1 ]; then
        log "slurm.conf changed: scontrol reconfigure"
        scontrol reconfigure || true
    fi
else
    # -c: start from a clean slate (no jobs recovered from a previous,
    # killed cluster -- they would otherwise show up as NODE_FAIL or be
    # requeued, and job ids would continue from the old counter).
    ctld_args=(-c)
    [ "${SLURM_KEEP_STATE:-0}" = 1 ] && ctld_args=()
    slurmctld "${ctld_args[@]}" || die "slurmctld failed to start"
    log "slurmctld started"
fi
if pid_alive "$SLURMD_PID" slurmd; then
    log "slurmd already running"
else
    # -N localhost: the node name in slurm.conf, independent of `hostname`.
    slurmd -N localhost || die "slurmd failed to start"
    log "slurmd started"
fi

# ---------------------------------------------------------------- 5. wait
deadline=$(( $(date +%s) + WAIT_SECS ))
state=""
resumed=0
while :; do
    state=$(sinfo -h -n localhost -o '%t' 2>/dev/null | head -n1 || true)
    case "$state" in
        idle|mix|alloc|comp) break ;;      # usable (mix/alloc: jobs already running)
        drain*|down*|fail*)
            # Left over from an earlier unclean stop: resume once.
            if [ $resumed = 0 ]; then
                log "node is '$state', resuming it"
                scontrol update NodeName=localhost State=RESUME 2>/dev/null || true
                resumed=1
            fi ;;
    esac
    if [ "$(date +%s)" -ge "$deadline" ]; then
        die "node not idle after ${WAIT_SECS}s (state='${state:-no answer from slurmctld}')"
    fi
    sleep 0.5
done

sinfo
log "cluster ready (node state: $state) in $(elapsed) ms"

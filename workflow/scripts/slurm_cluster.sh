#!/usr/bin/env bash
# A single-node SLURM cluster on this machine, for trying profiles/slurm (tests/test_slurm.py).
#   slurm_cluster.sh start    install slurm-wlm + munge if missing (apt-get, as root), write a
#                             minimal slurm.conf, start munged, slurmctld, slurmd, wait until idle
#   slurm_cluster.sh stop     cancel jobs, stop what start started, remove its state
#   slurm_cluster.sh status   exit 0 and show the node if the cluster is up, else exit 1
# Idempotent: start on a running cluster and stop on a stopped one do nothing.
# State (config, pids, logs, spool) lives in $NERHPO_SLURM_STATE (default /tmp/nerhpo-slurm).
# The config is also written to /etc/slurm/slurm.conf (the Snakemake plugin's job step clears
# SLURM_CONF before calling srun); a file there that this script did not write is backed up and
# restored by stop. No accounting (no slurmdbd): use `slurm-status-command: squeue`.
set -euo pipefail

STATE=${NERHPO_SLURM_STATE:-/tmp/nerhpo-slurm}
CONF=$STATE/slurm.conf
ETC_CONF=/etc/slurm/slurm.conf
MARK="# written by nerhpo workflow/scripts/slurm_cluster.sh"
HOST=$(hostname -s)
export SLURM_CONF=$CONF

log() { echo "[slurm_cluster] $*" >&2; }

alive() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

node_state() { sinfo -h -N -n "$HOST" -o %t 2>/dev/null | head -n1 || true; }

install() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v munged >/dev/null && command -v sinfo >/dev/null; then
        return
    fi
    [ "$(id -u)" = 0 ] || { log "slurm-wlm and munge are missing and I am not root"; exit 1; }
    log "installing slurm-wlm and munge (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

munge_key() {
    local key=/etc/munge/munge.key
    if [ ! -s "$key" ]; then
        mkdir -p /etc/munge
        if command -v mungekey >/dev/null; then
            mungekey --create --keyfile="$key" --force
        else
            dd if=/dev/urandom bs=1 count=1024 of="$key" status=none
        fi
    fi
    chown munge:munge "$key"
    chmod 400 "$key"
}

start_munge() {
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        return  # a munged is already serving (ours or the system's)
    fi
    munge_key
    mkdir -p /run/munge /var/lib/munge /var/log/munge
    chown munge:munge /run/munge /var/lib/munge /var/log/munge
    chmod 755 /run/munge
    # munged must run as the munge user; setpriv execs it (no extra process), --force clears a
    # stale socket left by a killed munged
    setsid setpriv --reuid=munge --regid=munge --init-groups munged -F --force \
        </dev/null >"$STATE/munged.log" 2>&1 &
    echo $! >"$STATE/munged.pid"
    for _ in $(seq 50); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return
        sleep 0.1
    done
    log "munged did not come up:"; cat "$STATE/munged.log" >&2; exit 1
}

write_conf() {
    local cpus mem_mb
    cpus=$(nproc)
    mem_mb=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)  # a bit below real
    mkdir -p "$STATE/ctld" "$STATE/d"
    cat >"$CONF" <<EOF
$MARK
ClusterName=nerhpo
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pidfile
SlurmdPidFile=$STATE/slurmd.pidfile
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
# no cgroups needed
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
# no slurmdbd: sacct has nothing to say, the Snakemake plugin must poll with squeue
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName=$HOST CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
# the partitions profiles/slurm names, both on this one node
PartitionName=cpu Nodes=ALL Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=ALL MaxTime=INFINITE State=UP
EOF
    mkdir -p /etc/slurm
    if [ -e "$ETC_CONF" ] && ! grep -qxF "$MARK" "$ETC_CONF"; then
        cp -p "$ETC_CONF" "$STATE/etc-slurm.conf.backup"
    fi
    cp "$CONF" "$ETC_CONF"
}

start() {
    if alive slurmctld && alive slurmd && [ "$(node_state)" = idle ]; then
        log "already running"; sinfo >&2; return
    fi
    stop quiet
    install
    mkdir -p "$STATE"
    write_conf
    start_munge
    setsid slurmctld -D -i -f "$CONF" </dev/null >"$STATE/slurmctld.out" 2>&1 &
    echo $! >"$STATE/slurmctld.pid"
    setsid slurmd -D -f "$CONF" </dev/null >"$STATE/slurmd.out" 2>&1 &
    echo $! >"$STATE/slurmd.pid"
    for _ in $(seq 300); do
        case "$(node_state)" in
            idle) log "up: node $HOST idle (config $CONF)"; sinfo >&2; return ;;
            drain* | down*) break ;;
        esac
        if ! alive slurmctld || ! alive slurmd; then break; fi
        sleep 0.2
    done
    log "the node did not become idle ($(node_state)):"
    sinfo -N -l >&2 || true
    tail -n 20 "$STATE"/slurmctld.log "$STATE"/slurmd.log "$STATE"/*.out >&2 || true
    exit 1
}

any_alive() {
    local pid
    for pid; do kill -0 "$pid" 2>/dev/null && return 0; done
    return 1
}

stop_pids() {  # TERM all at once (each takes 1-2 s to exit), KILL what is left after 5 s
    local name pids=()
    for name in "$@"; do
        [ -f "$STATE/$name.pid" ] && pids+=("$(cat "$STATE/$name.pid")")
        rm -f "$STATE/$name.pid"
    done
    [ ${#pids[@]} -gt 0 ] || return 0
    kill "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 50); do
        any_alive "${pids[@]}" || break
        sleep 0.1
    done
    kill -9 "${pids[@]}" 2>/dev/null || true
}

stop() {
    [ -d "$STATE" ] || { [ "${1:-}" = quiet ] || log "not running"; return 0; }
    if alive slurmctld; then
        scancel --full --user="$(id -un)" 2>/dev/null || true
        for _ in $(seq 50); do
            [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
            sleep 0.1
        done
    fi
    stop_pids slurmd slurmctld munged
    if [ -f "$STATE/etc-slurm.conf.backup" ]; then
        cp -p "$STATE/etc-slurm.conf.backup" "$ETC_CONF"
    elif [ -f "$ETC_CONF" ] && grep -qxF "$MARK" "$ETC_CONF"; then
        rm -f "$ETC_CONF"
    fi
    rm -rf "$STATE"
    [ "${1:-}" = quiet ] || log "stopped"
}

status() {
    if alive slurmctld && alive slurmd; then
        log "slurmctld $(cat "$STATE/slurmctld.pid"), slurmd $(cat "$STATE/slurmd.pid"); node $(node_state)"
        sinfo
        [ "$(node_state)" = idle ] || [ "$(node_state)" = mix ] || [ "$(node_state)" = alloc ]
    else
        log "not running"
        return 1
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) sed -n '2,11p' "$0" >&2; exit 2 ;;
esac

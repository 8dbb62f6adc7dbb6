#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Shared helpers for the end-to-end client suite (tests/e2e): real containerd (through its runc
# shim, driven with `ctr`) and real podman (through conmon) calling the runtime under test.
#
# The suite is written against the reference behaviour: every test must pass with
#     E2E_RUNTIME=$(command -v runc) make check-e2e
# and silo is then measured against it.
#
# Environment:
#   E2E_RUNTIME   the runtime under test (default: ./silo of the build tree)
#   E2E_TIMEOUT   seconds allowed per client command (default 60)
#   E2E_KEEP_LOGS directory to copy the runtime argv/stderr log of each file into (optional)
#
# Invariants:
#  - Everything a client writes is private to the test file: E2E_DIR (under /tmp) holds the
#    containerd root/state/socket or the podman root/runroot/tmp dir/config; the runtime's own
#    state root is under E2E_DIR too.  Cgroups live under /silo-e2e-<client>-<pid> in every
#    hierarchy and are removed (leaves first) by teardown; nothing else under /sys/fs/cgroup is
#    touched.
#  - Mounts: the daemons (containerd and its shims; podman and conmon) run inside one private
#    mount namespace held by a `sleep` process (E2E_NS_PID), so the overlay/shm mounts they make
#    never reach the host's table and vanish with the namespace.  Clients (ctr, podman) run
#    through `e2e_in_ns`.
#  - Processes: only processes we started are ended, by PID: the namespace holder, containerd,
#    and the shims/conmons whose command line names our private E2E_DIR.
#  - The runtime is called through a wrapper (E2E_DIR/bin/<runtime basename>) that appends the
#    exact argv, the exit status, and on failure the runtime's --log file, to E2E_DIR/runtime.log;
#    a failing test prints the tail of that log.

bats_require_minimum_version 1.5.0

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${E2E_RUNTIME:=${E2E_ROOT}/../../silo}"
E2E_RUNTIME=$(readlink -f "$E2E_RUNTIME" 2>/dev/null || echo "$E2E_RUNTIME")
E2E_IMPL=$(basename "$E2E_RUNTIME")
: "${E2E_TIMEOUT:=60}"
export E2E_RUNTIME E2E_IMPL E2E_TIMEOUT

# The image every scenario runs (a docker-archive tarball built from busybox-static).
export E2E_IMAGE=localhost/silo-e2e/busybox:latest

# ---------------------------------------------------------------------------------------------
# Private directory, mount namespace, runtime wrapper

# e2e_setup_dir CLIENT: create E2E_DIR and the cgroup parent name; CLIENT is "ctr" or "podman".
e2e_setup_dir() {
	E2E_DIR=$(mktemp -d "/tmp/silo-e2e-$1.XXXXXX")
	chmod 0755 "$E2E_DIR"
	E2E_CGROUP_PARENT=/silo-e2e-$1-$$
	export E2E_DIR E2E_CGROUP_PARENT
	e2e_wrap_runtime
}

# e2e_wrap_runtime: write E2E_DIR/bin/<basename of E2E_RUNTIME>, which logs and runs the runtime.
# The wrapper runs the runtime as a child (not exec) so it can record the exit status; that does
# not change the process model callers see: the wrapper is not a subreaper, so a container init
# the runtime leaves behind is still reparented to the caller's subreaper (shim, conmon).  Only
# for verbs that do not hand their stdio to a container is stderr copied into the log (for
# create/run/exec the runtime's stderr is the container's).  A caller that passes no --root
# (podman: it has no setting that reaches its `container cleanup` exit command too) gets
# --root E2E_DIR/runtime-root, so that the runtime's state stays private as well.
e2e_wrap_runtime() {
	mkdir -p "$E2E_DIR/bin"
	E2E_RUNTIME_LOG=$E2E_DIR/runtime.log
	E2E_WRAPPED=$E2E_DIR/bin/$E2E_IMPL
	export E2E_RUNTIME_LOG E2E_WRAPPED
	: >"$E2E_RUNTIME_LOG"
	cat >"$E2E_WRAPPED" <<-EOF
		#!/bin/bash
		real=$(printf '%q' "$E2E_RUNTIME")
		log=$(printf '%q' "$E2E_RUNTIME_LOG")
		default_root=$(printf '%q' "$E2E_DIR/runtime-root")
	EOF
	cat >>"$E2E_WRAPPED" <<-'EOF'
		logfile= verb= prev= has_root= process=
		for a in "$@"; do
			case "$prev" in --log) logfile=$a ;; --process) process=$a ;; esac
			case "$a" in --process=*) process=${a#--process=} ;; esac
			case "$a" in --log=*) logfile=${a#--log=} ;; esac
			[ -z "$verb" ] && case "$a" in --root | --root=*) has_root=1 ;; esac
			if [ -z "$verb" ]; then
				case "$a" in
				create | start | run | exec | state | kill | delete | list | pause | resume | \
				ps | update | events | features | spec | checkpoint | restore) verb=$a ;;
				esac
			fi
			prev=$a
		done
		{ printf '%s [%d] argv:' "$(date +%T.%3N)" $$; printf ' %q' "$real" "$@"; echo; } >>"$log"
		# exec --process FILE: the caller deletes the file afterwards, keep its content
		[ -n "$process" ] && [ -f "$process" ] && echo "  process: $(tr -d '\n' <"$process")" >>"$log"
		if [ -z "$has_root" ]; then
			echo "  (wrapper: adding --root $default_root)" >>"$log"
			set -- --root "$default_root" "$@"
		fi
		case "$verb" in
		create | run | exec) "$real" "$@" ;;
		*) "$real" "$@" 2> >(tee -a "$log" >&2) ;;
		esac
		rc=$?
		echo "$(date +%T.%3N) [$$] exit $rc ($verb)" >>"$log"
		if [ "$rc" -ne 0 ] && [ -n "$logfile" ] && [ -f "$logfile" ]; then
			echo "  --log $logfile (last lines):" >>"$log"
			tail -n 5 "$logfile" | sed 's/^/    /' >>"$log"
		fi
		exit "$rc"
	EOF
	chmod 0755 "$E2E_WRAPPED"
}

# e2e_start_ns: a private mount namespace, held open by a sleep whose pid is E2E_NS_PID.
e2e_start_ns() {
	unshare -m --propagation private sleep infinity </dev/null >/dev/null 2>&1 &
	E2E_NS_PID=$!
	echo "$E2E_NS_PID" >"$E2E_DIR/ns.pid"
	export E2E_NS_PID
	# wait until the sleep runs in its own namespace (unshare execs it)
	local i
	for i in $(seq 1 100); do
		[ "$(readlink "/proc/$E2E_NS_PID/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] && return 0
		sleep 0.05
	done
	echo "mount namespace holder did not start" >&2
	return 1
}

# e2e_in_ns CMD...: run CMD inside the private mount namespace, bounded by E2E_TIMEOUT.
e2e_in_ns() {
	timeout --foreground --kill-after=5 "$E2E_TIMEOUT" nsenter -t "$E2E_NS_PID" -m -- "$@"
}

# e2e_pids_naming STRING: pids of processes whose command line contains STRING (our private dir).
e2e_pids_naming() {
	local f
	# one grep over every command line (the pattern on stdin, so grep's own does not match)
	while read -r f; do
		f=${f#/proc/}
		echo "${f%/cmdline}"
	done < <(grep -lsF -f - /proc/[0-9]*/cmdline <<<"$1" 2>/dev/null)
}

# e2e_kill_pids SIGNAL PID...: signal each pid still alive, then wait up to 5 s for them to go.
e2e_kill_pids() {
	local sig=$1 p i alive
	shift
	for p in "$@"; do
		[ "$p" = "$$" ] || [ "$p" = "$BASHPID" ] && continue
		kill "-$sig" "$p" 2>/dev/null || true
	done
	for i in $(seq 1 50); do
		alive=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ "$alive" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# e2e_cgroup_pids: the processes in E2E_CGROUP_PARENT and below (pids hierarchy).
e2e_cgroup_pids() {
	local d=/sys/fs/cgroup/pids$E2E_CGROUP_PARENT
	[ -n "${E2E_CGROUP_PARENT:-}" ] && [ -d "$d" ] || return 0
	find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
}

# e2e_remove_cgroups: remove E2E_CGROUP_PARENT (leaves first) in every hierarchy.
e2e_remove_cgroups() {
	local h d
	[ -n "${E2E_CGROUP_PARENT:-}" ] || return 0
	for h in /sys/fs/cgroup /sys/fs/cgroup/*/; do
		h=${h%/}
		d=$h$E2E_CGROUP_PARENT
		[ -d "$d" ] || continue
		case "$d" in *process_api*) continue ;; esac
		find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
	done
}

# e2e_teardown_common: end every process that names E2E_DIR, the namespace holder, the cgroups,
# and the directory.  Safe to call twice.
e2e_teardown_common() {
	[ -n "${E2E_DIR:-}" ] && [ -d "$E2E_DIR" ] || return 0
	local pids
	# container processes a failed test left behind (they are in our cgroups)
	pids=$(e2e_cgroup_pids)
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086
		e2e_kill_pids KILL $pids || true
	fi
	pids=$(e2e_pids_naming "$E2E_DIR")
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086
		e2e_kill_pids TERM $pids || e2e_kill_pids KILL $pids || true
	fi
	if [ -n "${E2E_NS_PID:-}" ]; then
		e2e_kill_pids KILL "$E2E_NS_PID" || true
		wait "$E2E_NS_PID" 2>/dev/null || true
	fi
	e2e_remove_cgroups
	if [ -n "${E2E_KEEP_LOGS:-}" ]; then
		mkdir -p "$E2E_KEEP_LOGS"
		cp "$E2E_RUNTIME_LOG" "$E2E_KEEP_LOGS/$(basename "$BATS_TEST_FILENAME" .bats)-runtime.log" || true
	fi
	# the mounts died with the namespace; refuse to recurse into anything still mounted
	if grep -q " $E2E_DIR" /proc/self/mountinfo; then
		echo "warning: mounts left under $E2E_DIR" >&2
	else
		rm -rf "$E2E_DIR"
	fi
}

# e2e_mark_log: remember where the runtime log stood when the test began.
e2e_mark_log() {
	E2E_LOG_MARK=$(wc -l <"$E2E_RUNTIME_LOG")
}

# e2e_show_log_on_failure: print this test's part of the runtime log when the test failed.
e2e_show_log_on_failure() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		echo "# runtime calls of this test ($E2E_RUNTIME_LOG):"
		tail -n +"$((${E2E_LOG_MARK:-0} + 1))" "$E2E_RUNTIME_LOG" | tail -n 60 | sed 's/^/#   /'
	fi
}

# ---------------------------------------------------------------------------------------------
# The busybox image

# e2e_build_image OUT.tar: a docker-archive (accepted by `ctr image import` and `podman load`)
# holding one layer made from the host's busybox-static, tagged E2E_IMAGE.  Reproducible.
e2e_build_image() {
	"$BATS_TEST_DIRNAME/../../scripts/mkimage-busybox.sh" "$1" "$E2E_IMAGE"
}

# ---------------------------------------------------------------------------------------------
# Terminals and polling

# e2e_pty CMD...: run CMD with a pseudo-terminal as its stdin/stdout/stderr (python3's pty
# module); prints what CMD wrote to the terminal and exits with CMD's status.  Input for the
# terminal may be given in E2E_PTY_INPUT (written once CMD has started).
e2e_pty() {
	python3 - "$@" <<-'EOF'
		import fcntl, os, pty, select, struct, sys, termios, time
		pid, fd = pty.fork()
		if pid == 0:
		    # a known window size: 30 rows, 100 columns (`stty size` in the container: "30 100")
		    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
		    os.execvp(sys.argv[1], sys.argv[1:])
		data = os.environ.get("E2E_PTY_INPUT", "")
		if data:
		    time.sleep(float(os.environ.get("E2E_PTY_DELAY", "0.5")))
		    os.write(fd, data.encode())
		out = b""
		status = None
		while True:
		    try:
		        r, _, _ = select.select([fd], [], [], 1.0)
		    except InterruptedError:
		        continue
		    if not r:
		        done, st = os.waitpid(pid, os.WNOHANG)
		        if done:
		            status = st
		            break
		        continue
		    try:
		        chunk = os.read(fd, 4096)
		    except OSError:
		        chunk = b""
		    if not chunk:
		        break
		    out += chunk
		if status is None:
		    _, status = os.waitpid(pid, 0)
		sys.stdout.write(out.decode(errors="replace"))
		sys.stdout.flush()
		sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
	EOF
}

# e2e_retry N DELAY CMD...: run CMD until it succeeds, at most N times.
e2e_retry() {
	local n=$1 delay=$2 i
	shift 2
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep "$delay"
	done
	return 1
}

# ---------------------------------------------------------------------------------------------
# containerd

# e2e_containerd_start: write a private config and start /usr/bin/containerd inside the private
# mount namespace; sets E2E_CTRD_SOCK, E2E_CTRD_PID.  The CRI plugin and every snapshotter
# but overlayfs/native are disabled; no debug/metrics listeners; the runtime state root
# (--runc-root) is passed per container by `ctr run` (e2e_ctr_run).
e2e_containerd_start() {
	local d=$E2E_DIR/containerd i
	mkdir -p "$d/root" "$d/state" "$d/opt"
	# the shim's sockets (and ctr's default FIFOs) go under /run/containerd: remove what we
	# created there if it is empty at the end
	E2E_RUN_CTRD_CREATED=0
	[ -e /run/containerd ] || E2E_RUN_CTRD_CREATED=1
	E2E_CTRD_SOCK=$d/containerd.sock
	E2E_CTRD_CONFIG=$d/config.toml
	cat >"$E2E_CTRD_CONFIG" <<-CONF
		version = 2
		root = "$d/root"
		state = "$d/state"
		oom_score = 0
		disabled_plugins = [
		  "io.containerd.grpc.v1.cri",
		  "io.containerd.snapshotter.v1.aufs",
		  "io.containerd.snapshotter.v1.btrfs",
		  "io.containerd.snapshotter.v1.devmapper",
		  "io.containerd.snapshotter.v1.zfs",
		  "io.containerd.tracing.processor.v1.otlp",
		  "io.containerd.internal.v1.tracing",
		]
		[grpc]
		  address = "$E2E_CTRD_SOCK"
		[ttrpc]
		  address = "$E2E_CTRD_SOCK.ttrpc"
		[debug]
		  address = ""
		  level = "info"
		[metrics]
		  address = ""
		[plugins."io.containerd.internal.v1.opt"]
		  path = "$d/opt"
	CONF
	nsenter -t "$E2E_NS_PID" -m -- /usr/bin/containerd --config "$E2E_CTRD_CONFIG" \
		</dev/null >"$d/containerd.log" 2>&1 &
	E2E_CTRD_PID=$!
	echo "$E2E_CTRD_PID" >"$d/containerd.pid"
	export E2E_CTRD_SOCK E2E_CTRD_PID E2E_CTRD_CONFIG E2E_RUN_CTRD_CREATED
	for i in $(seq 1 200); do
		[ -S "$E2E_CTRD_SOCK" ] && ctr --address "$E2E_CTRD_SOCK" version >/dev/null 2>&1 && return 0
		kill -0 "$E2E_CTRD_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "containerd did not start:" >&2
	cat "$d/containerd.log" >&2
	return 1
}

# e2e_ctr ARGS...: ctr on the private daemon, in the namespace "silo-e2e", bounded in time.
e2e_ctr() {
	timeout --foreground --kill-after=5 "$E2E_TIMEOUT" ctr --address "$E2E_CTRD_SOCK" --namespace silo-e2e "$@"
}

# e2e_ctr_run [ctr run options] ID [CMD ARGS...]: `ctr run` of E2E_IMAGE with the runtime under
# test (through the wrapper), its state under E2E_DIR/runc-root, the cgroup under
# E2E_CGROUP_PARENT.  Options go before ID; the image is inserted after them.
e2e_ctr_run() {
	local opts=() id
	while [ $# -gt 0 ]; do
		case "$1" in
		--memory-limit | --cwd | --env | --label | --cpus | --cpu-quota | --cpu-period | --mount | \
			--cap-add | --cap-drop | --pid-file | --user)
			opts+=("$1" "$2")
			shift
			;;
		-*) opts+=("$1") ;;
		*) break ;;
		esac
		shift
	done
	id=$1
	shift
	e2e_ctr run --runc-binary "$E2E_WRAPPED" --runc-root "$E2E_DIR/runc-root" \
		--fifo-dir "$E2E_DIR/fifo" --cgroup "$E2E_CGROUP_PARENT/$id" "${opts[@]}" "$E2E_IMAGE" "$id" "$@"
}

# e2e_ctr_exec [ctr task exec options] ID CMD...: `ctr task exec` with its FIFOs under E2E_DIR
# (a detached exec's FIFOs would otherwise stay in /run/containerd/fifo).
e2e_ctr_exec() {
	e2e_ctr task exec --fifo-dir "$E2E_DIR/fifo" "$@"
}

# e2e_ctr_cleanup_all: kill and delete every task and container of the namespace.
e2e_ctr_cleanup_all() {
	local id
	# bounded: a runtime that cannot kill must not hang the suite (teardown_file then kills
	# by pid whatever is left)
	local E2E_TIMEOUT=10
	for id in $(e2e_ctr task ls -q 2>/dev/null); do
		e2e_ctr task kill -a -s SIGKILL "$id" >/dev/null 2>&1 || true
		e2e_retry 3 0.2 e2e_ctr task delete -f "$id" >/dev/null 2>&1 || true
	done
	for id in $(e2e_ctr container ls -q 2>/dev/null); do
		e2e_ctr container delete "$id" >/dev/null 2>&1 || true
	done
}

# e2e_containerd_stop: delete what is left, stop containerd by PID, then the shims (they name
# our private socket on their command line), the namespace and the directory
# (e2e_teardown_common), and the empty directories under /run/containerd we caused.
e2e_containerd_stop() {
	if [ -n "${E2E_CTRD_PID:-}" ]; then
		e2e_ctr_cleanup_all
		e2e_kill_pids TERM "$E2E_CTRD_PID" || e2e_kill_pids KILL "$E2E_CTRD_PID" || true
		wait "$E2E_CTRD_PID" 2>/dev/null || true
	fi
	e2e_teardown_common
	if [ "${E2E_RUN_CTRD_CREATED:-0}" = 1 ]; then
		rmdir /run/containerd/s /run/containerd/fifo /run/containerd 2>/dev/null || true
	fi
}

# ---------------------------------------------------------------------------------------------
# podman

# e2e_podman_setup: private containers.conf, storage.conf and registries.conf under E2E_DIR.
# - ulimits: the host's bounding set lacks CAP_SYS_RESOURCE, so podman's defaults (nofile and
#   nproc raised to the hard maximum) cannot be applied: set explicit ones.
# - network: no network backend is needed: containers run with `--network none` (netns =
#   "none" by default here) and the CNI config/plugin dirs point into E2E_DIR.
# - events go to a file, cgroups are managed by podman itself (cgroupfs, no systemd here), locks
#   are files under the private tmp dir (not the shared /dev/shm/libpod_lock).
# - runtime_supports_json names the runtime under test so podman hands it --log-format=json the
#   way it does for runc and crun.
e2e_podman_setup() {
	local d=$E2E_DIR/podman
	mkdir -p "$d/root" "$d/runroot" "$d/tmp" "$d/cni-net" "$d/cni-plugins" "$d/volumes"
	E2E_PODMAN_DIR=$d
	cat >"$d/containers.conf" <<-CONF
		[containers]
		default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
		netns = "none"
		log_driver = "k8s-file"
		[network]
		network_backend = "cni"
		network_config_dir = "$d/cni-net"
		cni_plugin_dirs = ["$d/cni-plugins"]
		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		events_logfile_path = "$d/events.log"
		tmp_dir = "$d/tmp"
		volume_path = "$d/volumes"
		static_dir = "$d/root/libpod"
		lock_type = "file"
		conmon_path = ["/usr/bin/conmon"]
		runtime_supports_json = ["crun", "runc", "kata", "runsc", "silo", "$E2E_IMPL"]
		runtime_supports_nocgroups = ["crun", "$E2E_IMPL"]
	CONF
	cat >"$d/storage.conf" <<-CONF
		[storage]
		driver = "overlay"
		runroot = "$d/runroot"
		graphroot = "$d/root"
	CONF
	: >"$d/registries.conf"
	export E2E_PODMAN_DIR
	# `podman load` records blobs in /var/lib/containers/cache (containers/image's fixed path
	# for root): give it a private directory there, inside our mount namespace only.
	E2E_VLC_CREATED=0
	if [ ! -d /var/lib/containers ]; then
		mkdir /var/lib/containers && E2E_VLC_CREATED=1
	fi
	export E2E_VLC_CREATED
	mkdir -p "$d/var-lib-containers"
	nsenter -t "$E2E_NS_PID" -m -- mount --bind "$d/var-lib-containers" /var/lib/containers
}

# e2e_podman ARGS...: podman with the private configuration and the runtime under test (through
# the wrapper), inside the private mount namespace, bounded in time.
e2e_podman() {
	local d=$E2E_PODMAN_DIR
	CONTAINERS_CONF=$d/containers.conf CONTAINERS_STORAGE_CONF=$d/storage.conf \
		CONTAINERS_REGISTRIES_CONF=$d/registries.conf \
		e2e_in_ns podman --root "$d/root" --runroot "$d/runroot" --tmpdir "$d/tmp" \
		--runtime "$E2E_WRAPPED" --cgroup-manager cgroupfs --events-backend file \
		--network-config-dir "$d/cni-net" "$@"
}

# e2e_podman_run [podman run options] ...: `podman run` with no network and our cgroup parent.
e2e_podman_run() {
	e2e_podman run --network none --cgroup-parent "$E2E_CGROUP_PARENT" "$@"
}

# e2e_podman_stop_all: remove every container (podman stops them with the runtime first), then
# end conmon and anything else naming E2E_DIR, the namespace and the directory.
e2e_podman_teardown() {
	if [ -n "${E2E_PODMAN_DIR:-}" ]; then
		E2E_TIMEOUT=20 e2e_podman rm -a -f -t 0 >/dev/null 2>&1 || true
	fi
	e2e_teardown_common
	[ "${E2E_VLC_CREATED:-0}" = 1 ] && rmdir /var/lib/containers 2>/dev/null
	return 0
}

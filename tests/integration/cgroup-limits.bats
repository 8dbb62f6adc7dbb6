#!/usr/bin/env bats
# Every resource proven for real: limits are enforced (OOM kill, fork bomb, CPU quota, device
# access), the freezer stops processes, update changes limits live, `events` reports stats that
# match the cgroup files and OOM kills, and delete leaves no cgroup behind.
#
# One file for both layouts: it runs on the host (hybrid: v1 controllers) as part of `make
# check`, and tests/integration-v2/cgroup-limits.bats is a symlink to it, so it also runs in the
# pure cgroup v2 guest (`make check-v2`).  cgf picks the v1 or v2 file for each check.
#
# Timing checks are one-sided or wide (CPU: at most 0.45 s of CPU per second under a 0.2 CPU
# quota, at least some progress), so a loaded machine cannot make them flaky.

load ../integration/helpers

setup() {
	requires root
	setup_bundle
}

teardown() {
	teardown_bundle
}

# CPU time used by the container so far, in ns.
cpu_usage_ns() {
	if is_v2; then
		echo $(($(awk '$1 == "usage_usec" {print $2}' "$(cgf cpu - cpu.stat)") * 1000))
	else
		cat "$(cgf cpuacct cpuacct.usage -)"
	fi
}

nr_throttled() {
	awk '$1 == "nr_throttled" {print $2}' "$(cgf cpu cpu.stat cpu.stat)"
}

# events_bg ARGS...: `events ARGS` in the background, output in $TESTDIR/events.out, $EV_PID.
events_bg() {
	"$SILO_BIN" ${SILO_GLOBAL_OPTS:-} --root "$ROOT" events "$@" </dev/null >"$TESTDIR/events.out" \
		2>"$TESTDIR/events.err" 3>&- &
	EV_PID=$!
	on_teardown "kill -9 $EV_PID"
}

add_cap_mknod() {
	update_config '.process.capabilities |= with_entries(.value += ["CAP_MKNOD"])'
}

@test "limits: a memory hog is OOM-killed at the memory limit, and events reports the OOM" {
	requires cgroups_memory
	# memory+swap equal to the limit: no swap to escape to (v2: memory.swap.max 0)
	update_config '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
	set_cmd memhog 512
	create_ctr c1
	events_bg --interval 200ms c1
	# the first stats line means the OOM watch is registered
	retry 100 0.1 grep -q '"type":"stats"' "$TESTDIR/events.out"
	silo start c1
	assert_success
	wait_for_container 300 0.2 c1 stopped
	retry 50 0.1 grep -qx '{"type":"oom","id":"c1"}' "$TESTDIR/events.out"
	if is_v2; then
		[ "$(cat "$(cgf - - memory.max)")" = 33554432 ]
		grep -qE '^oom_kill [1-9]' "$(cgf - - memory.events)"
	else
		[ "$(cat "$(cgf memory memory.limit_in_bytes -)")" = 33554432 ]
		grep -qE '^oom_kill [1-9]' "$(cgf memory memory.oom_control -)"
	fi
	run grep -c "memhog done" "$CTR_OUT"
	assert_output 0
	if is_silo; then
		# silo's stream ends with the container (runc's keeps going until killed)
		SILO_BG_PID=$EV_PID
		wait_bg 10
		[ "$BG_STATUS" -eq 0 ]
	fi
}

@test "limits: a fork bomb stops at the pids limit" {
	requires cgroups_pids
	update_config '.linux.resources.pids = {"limit": 10}'
	set_cmd forkbomb 1000
	run_detached c1
	wait_for_output 100 0.1 '^forkbomb '
	# the init and 9 children: the 10th fork fails with EAGAIN
	run grep -x 'forkbomb 9 EAGAIN' "$CTR_OUT"
	assert_success
	[ "$(cat "$(cgf pids pids.current pids.current)")" -eq 10 ]
	grep -qE '^max [1-9]' "$(cgf pids pids.events pids.events)"
}

@test "limits: a CPU hog is held near its quota" {
	requires cgroups_cpu
	# 0.2 CPU for two spinning processes that would take 2 CPUs
	update_config '.linux.resources.cpu = {"quota": 20000, "period": 100000}'
	set_cmd spin 2
	run_detached c1
	sleep 0.3
	local a b t0 t1 ms
	a=$(cpu_usage_ns)
	t0=$(date +%s%N)
	sleep 1
	b=$(cpu_usage_ns)
	t1=$(date +%s%N)
	ms=$(((b - a) * 1000 / (t1 - t0)))
	echo "CPU used: ${ms} ms per second (quota 200)" >&2
	[ "$ms" -le 450 ]
	[ "$ms" -ge 5 ]
	[ "$(nr_throttled)" -gt 0 ]
}

@test "limits: device access outside the allow list is denied, the standard list is allowed" {
	[ -d /sys/fs/cgroup/devices ] || is_v2 || skip "test requires the devices controller or cgroup v2"
	add_cap_mknod
	# a /dev/kmsg node (c 1:11) in the rootfs: not in the standard allow list.  Opening it for
	# writing needs no privilege (reading needs CAP_SYSLOG), so EPERM can only come from the
	# device controller / eBPF program
	mknod "$BUNDLE/rootfs/kmsg" c 1 11
	set_cmd open-write /kmsg
	silo run --bundle "$BUNDLE" c1
	assert_failure
	assert_output EPERM
	# the standard list: /dev/zero, /dev/null (`head -c1 /dev/zero` works)
	set_cmd open-read /dev/zero
	silo run --bundle "$BUNDLE" c2
	assert_success
	assert_output ok
	set_cmd open-write /dev/null
	silo run --bundle "$BUNDLE" c3
	assert_success
	# mknod of any node is allowed ("c *:* m"), opening it is not
	set_cmd mknod /dev/kmsg2 c 1 11
	silo run --bundle "$BUNDLE" c4
	assert_success
	assert_output ok
	# a rule allowing only reads of c 1:11 does not allow writing
	update_config '.linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "r"}]'
	set_cmd open-write /kmsg
	silo run --bundle "$BUNDLE" c5
	assert_failure
	assert_output EPERM
	# allowing writes (the last matching rule wins over the deny-all before it)
	update_config '.linux.resources.devices[-1].access = "w"'
	silo run --bundle "$BUNDLE" c6
	assert_success
	assert_output ok
	# and with an allow-all rule the node opens: the EPERMs above were the device control
	update_config '.linux.resources.devices = [{"allow": true, "access": "rwm"}]'
	silo run --bundle "$BUNDLE" c7
	assert_success
	assert_output ok
}

@test "limits: pause freezes the processes (no CPU time at all), resume thaws them" {
	requires cgroups_cpu
	set_cmd spin 1
	run_detached c1
	local pid a b c
	pid=$(state_field c1 pid)
	silo pause c1
	assert_success
	if is_v2; then
		grep -qx 'frozen 1' "$(cgf - - cgroup.events)"
	else
		[ "$(cat "$(cgf freezer freezer.state -)")" = FROZEN ]
		# a frozen task sleeps uninterruptibly in the freezer
		[ "$(awk '{print $3}' "/proc/$pid/stat")" = D ]
	fi
	a=$(cpu_usage_ns)
	sleep 0.5
	b=$(cpu_usage_ns)
	[ "$a" -eq "$b" ]
	silo resume c1
	assert_success
	sleep 0.5
	c=$(cpu_usage_ns)
	[ "$c" -gt "$b" ]
	[ "$(awk '{print $3}' "/proc/$pid/stat")" = R ]
}

@test "limits: update changes memory, pids and cpu limits of a running container live" {
	requires cgroups_memory cgroups_pids cgroups_cpu
	update_config '.linux.resources.memory = {"limit": 33554432} | .linux.resources.pids = {"limit": 5}'
	set_cmd forkbomb 1000
	run_detached c1
	wait_for_output 100 0.1 '^forkbomb 4 EAGAIN$'
	silo update --memory 64m --pids-limit 20 --cpu-quota 30000 --cpu-period 100000 c1
	assert_success
	if is_v2; then
		[ "$(cat "$(cgf - - memory.max)")" = 67108864 ]
		[ "$(cat "$(cgf - - pids.max)")" = 20 ]
		[ "$(cat "$(cgf - - cpu.max)")" = "30000 100000" ]
	else
		[ "$(cat "$(cgf memory memory.limit_in_bytes -)")" = 67108864 ]
		[ "$(cat "$(cgf pids pids.max -)")" = 20 ]
		[ "$(cat "$(cgf cpu cpu.cfs_quota_us -)")" = 30000 ]
	fi
}

@test "limits: events --stats numbers match the cgroup files (go-runc's Stats shape)" {
	requires cgroups_memory cgroups_pids cgroups_cpu
	update_config '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 50}'
	set_cmd spawn 2
	run_detached c1
	wait_for_output 50 0.1 '^spawned 2$'
	local before after json
	before=$(cpu_usage_ns)
	silo events --stats c1
	assert_success
	json=$output
	after=$(cpu_usage_ns)
	[ "${#lines[@]}" -eq 1 ]
	jq -e '.type == "stats" and .id == "c1"' <<<"$json"
	jq -e '.data.pids.current == 3 and .data.pids.limit == 50' <<<"$json"
	jq -e '.data.memory.usage.limit == 67108864' <<<"$json"
	local total
	total=$(jq '.data.cpu.usage.total' <<<"$json")
	[ "$total" -ge "$before" ] && [ "$total" -le "$after" ]
	if is_v2; then
		jq -e --argjson f "$(cat "$(cgf - - pids.current)")" '.data.pids.current == $f' <<<"$json"
		jq -e '.data.memory.raw | has("anon") and has("file")' <<<"$json"
	else
		jq -e '.data.memory.raw | has("total_rss") and has("cache")' <<<"$json"
		jq -e --argjson f "$(cat "$(cgf memory memory.max_usage_in_bytes -)")" \
			'.data.memory.usage.max == $f' <<<"$json"
	fi
	# what go-runc's Stats (containerd's shim: `events --stats`) decodes must fit its Go structs:
	# objects where it has structs, uint64 numbers (never negative) in every field it reads, the
	# non-omitempty fields present (cpu.usage.kernel/user, memory *.limit/failcnt)
	jq -e '((.data.cpu.usage.percpu // []) | type) == "array" and (.data.cpu.usage.kernel | type) == "number" and
		(.data.cpu.usage.user | type) == "number" and (.data.cpu.throttling | type) == "object" and
		(.data.memory.usage.limit | type) == "number" and (.data.memory.usage.failcnt | type) == "number" and
		(.data.memory.swap | type) == "object" and ((.data.memory.cache // 0) | type) == "number" and
		(.data.memory.raw | type) == "object" and (.data.pids | type) == "object" and
		(.data.blkio | type) == "object" and (.data.hugetlb | type) == "object" and
		([.data | (.cpu, .memory, .pids, .blkio, .hugetlb) | .. | numbers | select(. < 0)] | length) == 0 and
		([.data.blkio[] | .[] | (.major, .minor, .value) | select(. != null and type != "number")] | length) == 0' \
		<<<"$json"
}

@test "limits: events on a stopped container fails like runc" {
	set_cmd true
	run_detached c1
	wait_for_container 50 0.1 c1 stopped
	silo events --stats c1
	assert_failure
	assert_output --partial "container with id c1 is not running"
	silo events --interval 0 c1
	assert_failure
}

@test "limits: delete removes the nested cgroup and its parents in every hierarchy" {
	update_config --arg cg "$CGROUP_PATH/a/b" '.linux.cgroupsPath = $cg'
	set_cmd spawn 2
	run_detached c1
	local d found=0
	for d in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		case "$d" in */process_api/) continue ;; esac
		[ -d "$d${CGROUP_PATH#/}/a/b" ] && found=$((found + 1))
	done
	[ "$found" -gt 0 ]
	silo delete --force c1
	assert_success
	# silo removes the parents its create made; runc leaves them (only the leaf is checked)
	local gone=${CGROUP_PATH#/}
	is_silo || gone=$gone/a/b
	for d in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		case "$d" in */process_api/) continue ;; esac
		if [ -e "$d$gone" ]; then
			echo "left behind: $d$gone" >&2
			return 1
		fi
	done
}

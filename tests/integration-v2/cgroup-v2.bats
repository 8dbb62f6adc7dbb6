#!/usr/bin/env bats
# cgroup v2: what silo writes into the unified hierarchy, and the container's view of it.
#
# Runs only on a pure cgroup v2 host (every test skips elsewhere).  On this project's hybrid CI
# host it runs inside the micro-VM of tests/vm/run-in-guest, through tests/integration-v2/run.sh.
#
# Every expected value is the v2 meaning of the OCI (v1-shaped) value, as runc converts it:
#   memory.limit -> memory.max, reservation -> memory.low, swap (memory+swap) -> memory.swap.max
#   = swap - limit, cpu.shares -> cpu.weight = 1 + (shares - 2) * 9999 / 262142,
#   quota/period -> cpu.max "QUOTA PERIOD", and linux.resources.unified written verbatim, last.

load ../integration/helpers

setup() {
	requires root cgroups_v2
	setup_bundle
	set_cmd pause
}

teardown() {
	teardown_bundle
}

# The container's cgroup directory.
cg() {
	echo "/sys/fs/cgroup${CGROUP_PATH}"
}

# assert_cg_file FILE EXPECTED: FILE of the container's cgroup holds exactly EXPECTED.
assert_cg_file() {
	local got
	got=$(cat "$(cg)/$1") || fail "cannot read $(cg)/$1"
	[ "$got" = "$2" ] || fail "$(cg)/$1: expected '$2', silo wrote '$got'"
}

__create_from_zero() {
	timeout -k 5 "$SILO_TIMEOUT" "$SILO_BIN" --root "$ROOT" create --bundle "$BUNDLE" "$1" \
		</dev/zero >>"$CTR_OUT" 2>>"$CTR_ERR" 3>&-
}

@test "v2: memory.limit -> memory.max, reservation -> memory.low" {
	requires cgroups_memory
	update_config '.linux.resources.memory = {"limit": 67108864, "reservation": 33554432}'
	create_ctr c1
	assert_cg_file memory.max 67108864
	assert_cg_file memory.low 33554432
}

@test "v2: memory swap (memory+swap) -> memory.swap.max = swap - limit" {
	requires cgroups_memory
	! grep -qw 'swapaccount=0' /proc/cmdline || skip "swap accounting is disabled"
	update_config '.linux.resources.memory = {"limit": 67108864, "swap": 100663296}'
	create_ctr c1
	assert_cg_file memory.max 67108864
	assert_cg_file memory.swap.max 33554432
}

@test "v2: swap equal to the limit means no swap: memory.swap.max 0" {
	requires cgroups_memory
	update_config '.linux.resources.memory = {"limit": 67108864, "swap": 67108864}'
	create_ctr c1
	assert_cg_file memory.swap.max 0
}

@test "v2: swap -1 means unlimited swap: memory.swap.max max" {
	requires cgroups_memory
	update_config '.linux.resources.memory = {"limit": 67108864, "swap": -1}'
	create_ctr c1
	assert_cg_file memory.max 67108864
	assert_cg_file memory.swap.max max
}

@test "v2: cpu shares -> cpu.weight (runc's linear conversion)" {
	requires cgroups_cpu
	# 1 + (512 - 2) * 9999 / 262142 = 20 (integer division)
	update_config '.linux.resources.cpu = {"shares": 512}'
	create_ctr c1
	assert_cg_file cpu.weight 20
}

@test "v2: cpu shares 2 and 262144 map to the ends of cpu.weight" {
	requires cgroups_cpu
	update_config '.linux.resources.cpu = {"shares": 2}'
	create_ctr c1
	assert_cg_file cpu.weight 1
	silo delete --force c1
	update_config '.linux.resources.cpu = {"shares": 262144}'
	create_ctr c2
	assert_cg_file cpu.weight 10000
}

@test "v2: cpu quota/period -> cpu.max" {
	requires cgroups_cpu
	update_config '.linux.resources.cpu = {"quota": 50000, "period": 100000}'
	create_ctr c1
	assert_cg_file cpu.max "50000 100000"
}

@test "v2: cpu quota -1 with a period -> cpu.max 'max PERIOD'" {
	requires cgroups_cpu
	update_config '.linux.resources.cpu = {"quota": -1, "period": 50000}'
	create_ctr c1
	assert_cg_file cpu.max "max 50000"
}

@test "v2: cpuset cpus/mems -> cpuset.cpus/cpuset.mems, and the init's affinity follows" {
	requires cgroups_cpuset smp
	update_config '.linux.resources.cpu = {"cpus": "1", "mems": "0"}'
	create_ctr c1
	assert_cg_file cpuset.cpus 1
	assert_cg_file cpuset.mems 0
	assert_cg_file cpuset.cpus.effective 1
	pid=$(state_field c1 pid)
	run awk '/^Cpus_allowed_list:/ {print $2}' "/proc/$pid/status"
	assert_output 1
}

@test "v2: pids.limit -> pids.max" {
	requires cgroups_pids
	update_config '.linux.resources.pids = {"limit": 100}'
	create_ctr c1
	assert_cg_file pids.max 100
}

@test "v2: pids.max is enforced" {
	requires cgroups_pids
	# init plus 2 children fit under 3; the 3rd fork does not
	update_config '.linux.resources.pids = {"limit": 3}'
	set_cmd spawn 3
	run_detached c1
	retry 100 0.2 grep -q "fork: Resource temporarily unavailable" "$CTR_ERR"
	grep -q '^max [1-9]' "$(cg)/pids.events"
}

@test "v2: the unified map is written verbatim, after (and over) the converted values" {
	requires cgroups_memory cgroups_pids cgroups_cpu
	update_config '.linux.resources.pids = {"limit": 100}
		| .linux.resources.unified = {"pids.max": "42", "memory.high": "33554432",
		                              "cpu.weight": "77", "memory.oom.group": "1"}'
	create_ctr c1
	assert_cg_file pids.max 42
	assert_cg_file memory.high 33554432
	assert_cg_file cpu.weight 77
	assert_cg_file memory.oom.group 1
}

@test "v2: the unified map refuses cgroup core files that move or kill processes" {
	update_config '.linux.resources.unified = {"cgroup.procs": "1"}'
	silo_detached create --bundle "$BUNDLE" c1
	assert_failure
	[ ! -d "$(cg)" ] || fail "cgroup $(cg) left behind after the failed create"
}

@test "v2: the init is in its cgroup when create returns" {
	create_ctr c1
	pid=$(state_field c1 pid)
	run cat "/proc/$pid/cgroup"
	assert_success
	# the only line of a pure v2 host, seen from the root cgroup namespace
	assert_output "0::$CGROUP_PATH"
	grep -qx "$pid" "$(cg)/cgroup.procs"
}

@test "v2: the parents get the controllers delegated, the leaf has them available" {
	requires cgroups_memory cgroups_pids cgroups_cpu
	update_config --arg cg "$CGROUP_PATH/a/b" '.linux.cgroupsPath = $cg
		| .linux.resources.pids = {"limit": 10}'
	create_ctr c1
	local c
	for c in memory pids cpu; do
		grep -qw "$c" "$(cg)/cgroup.subtree_control" || fail "$c not enabled in $(cg)"
		grep -qw "$c" "$(cg)/a/cgroup.subtree_control" || fail "$c not enabled in $(cg)/a"
		grep -qw "$c" "$(cg)/a/b/cgroup.controllers" || fail "$c not available in $(cg)/a/b"
	done
	[ "$(cat "$(cg)/a/b/pids.max")" = 10 ]
	pid=$(state_field c1 pid)
	grep -qx "$pid" "$(cg)/a/b/cgroup.procs"
}

@test "v2: a memory hog is OOM-killed under memory.max" {
	requires cgroups_memory
	# writing /dev/zero into the container's tmpfs /dev/shm (64 MiB) charges shmem to the
	# container's cgroup; it cannot be reclaimed without swap, so 16 MiB ends in the OOM killer
	update_config '.linux.resources.memory = {"limit": 16777216, "swap": 16777216}'
	set_cmd write /dev/shm/hog -
	# like silo_detached, with /dev/zero as the container's stdin (the redirections must be
	# inside the function: bats' `run` would otherwise hand the container its output pipe)
	run __create_from_zero c1
	assert_success
	silo start c1
	assert_success
	wait_for_container 300 0.2 c1 stopped
	run cat "$(cg)/memory.events"
	assert_success
	assert_line --regexp '^oom_kill [1-9][0-9]*$'
	assert_cg_file memory.max 16777216
	# killed, not ENOSPC from a full /dev/shm
	run grep -c "No space left" "$CTR_ERR"
	assert_output 0
}

@test "v2: kill --all signals every process of the cgroup, delete removes it" {
	requires cgroups_pids
	# without a pid namespace, killing the init would leave its children running
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	set_cmd spawn 2
	run_detached c1
	wait_for_output 100 0.2 '^spawned 2$'
	[ "$(wc -l <"$(cg)/cgroup.procs")" -eq 3 ] || fail "expected 3 processes in $(cg)"
	silo kill --all c1 KILL
	assert_success
	wait_for_container 100 0.1 c1 stopped
	retry 50 0.1 bash -c "[ ! -s '$(cg)/cgroup.procs' ]"
	silo delete c1
	assert_success
	[ ! -e "$(cg)" ] || fail "cgroup $(cg) still exists after delete"
}

@test "v2: delete removes the default /silo/<id> cgroup and the /silo parent it created" {
	[ ! -e /sys/fs/cgroup/silo ] || skip "/sys/fs/cgroup/silo exists already (not created by this test)"
	local id="v2-default-$$"
	update_config 'del(.linux.cgroupsPath)'
	on_teardown "rmdir /sys/fs/cgroup/silo/$id /sys/fs/cgroup/silo"
	create_ctr "$id"
	pid=$(state_field "$id" pid)
	run cat "/proc/$pid/cgroup"
	assert_output "0::/silo/$id"
	silo kill "$id" KILL
	assert_success
	wait_for_container 100 0.1 "$id" stopped
	silo delete "$id"
	assert_success
	[ ! -e "/sys/fs/cgroup/silo/$id" ] || fail "/sys/fs/cgroup/silo/$id still exists after delete"
	[ ! -e /sys/fs/cgroup/silo ] || fail "/sys/fs/cgroup/silo (created by silo, empty) still exists"
}

@test "v2: delete --force of a running container removes its cgroup" {
	create_ctr c1
	[ -d "$(cg)" ]
	silo delete --force c1
	assert_success
	[ ! -e "$(cg)" ] || fail "cgroup $(cg) still exists after delete --force"
}

@test "v2: run removes the nested cgroup and the parents it created" {
	update_config --arg cg "$CGROUP_PATH/a/b" '.linux.cgroupsPath = $cg'
	set_cmd true
	silo run --bundle "$BUNDLE" c1
	assert_success
	[ ! -e "$(cg)" ] || fail "$(cg) (created by this run, empty) still exists: $(find "$(cg)" -type d)"
}

@test "v2: with a cgroup namespace the container sees its own cgroup at /sys/fs/cgroup" {
	requires cgroupns
	update_config '.linux.namespaces += [{"type": "cgroup"}]
		| .linux.resources.pids = {"limit": 77}'
	set_cmd cgroup
	silo run --bundle "$BUNDLE" c1
	assert_success
	assert_output "0::/"

	# the cgroup2 mount (type "cgroup" in config.json) must be made inside the new cgroup
	# namespace, so that its root is the namespace root: mountinfo shows ROOT "/" (a mount
	# made before unsharing shows the path up to the hierarchy root, e.g. "/../..")
	set_cmd mounts
	silo run --bundle "$BUNDLE" c2
	assert_success
	# mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS ... - FSTYPE SOURCE SUPEROPTS
	assert_line --regexp '^[0-9]+ [0-9]+ [0-9]+:[0-9]+ / /sys/fs/cgroup [^ ]*ro[, ].* - cgroup2 '

	# so its limit files are at the top and no sibling (the host's tree) is visible
	set_cmd ls /sys/fs/cgroup
	silo run --bundle "$BUNDLE" c3
	assert_success
	assert_line cgroup.procs
	assert_line pids.max
	refute_line --regexp '^silo'

	set_cmd cat /sys/fs/cgroup/pids.max
	silo run --bundle "$BUNDLE" c4
	assert_success
	assert_output 77
}

@test "v2: pause freezes the cgroup (cgroup.freeze), resume thaws it" {
	create_ctr c1
	silo start c1
	assert_success
	silo pause c1
	assert_success
	assert_cg_file cgroup.freeze 1
	grep -qx 'frozen 1' "$(cg)/cgroup.events"
	silo resume c1
	assert_success
	assert_cg_file cgroup.freeze 0
}

@test "v2: update changes memory.max and pids.max of a running container" {
	requires cgroups_memory cgroups_pids
	update_config '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 100}'
	create_ctr c1
	silo update --memory 134217728 --pids-limit 50 c1
	assert_success
	assert_cg_file memory.max 134217728
	assert_cg_file pids.max 50
}

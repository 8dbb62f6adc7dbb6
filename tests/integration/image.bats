#!/usr/bin/env bats
# Images: import (OCI layout, OCI archive, docker save of every generation), the store (dedup,
# digest checks, prune), hostile tars, run/create --image (overlay rootfs, config from the image),
# cleanup on delete, diff export.  Test images are built here from busybox-static with umoci,
# skopeo, tar, gzip, zstd and python3.  Every test uses a private data root under TESTDIR, and
# everything that mounts runs inside `unshare -m --propagation private` (ns_run).
# silo-only: runc has no images.

load helpers

setup_file() {
	FIX=$BATS_FILE_TMPDIR/fix
	export FIX
	mkdir -p "$FIX"
	build_fixtures >"$FIX/build.log" 2>&1 || {
		cat "$FIX/build.log" >&3
		return 1
	}
}

setup() {
	is_silo || skip "images are a silo extension"
	setup_bundle
	DATA=$TESTDIR/data
	ID=img$$-${BATS_TEST_NUMBER}
	export DATA ID
}

teardown() {
	teardown_bundle
}

# mktar OUT SPEC...: a tar made by python3 tarfile.  SPEC: f:NAME[:CONTENT] d:NAME l:NAME:TARGET
# (symlink) h:NAME:TARGET (hard link) c:NAME (char device 1:3) s:NAME (setuid file)
# n:COUNT (COUNT small files)
mktar() {
	python3 - "$@" <<'EOF'
import io, sys, tarfile
out = sys.argv[1]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    for spec in sys.argv[2:]:
        kind, _, rest = spec.partition(":")
        name, _, arg = rest.partition(":")
        i = tarfile.TarInfo(name)
        i.mtime = 0
        if kind == "f":
            data = arg.encode()
            i.size = len(data); i.mode = 0o644
            t.addfile(i, io.BytesIO(data)); continue
        if kind == "d": i.type = tarfile.DIRTYPE; i.mode = 0o755
        elif kind == "l": i.type = tarfile.SYMTYPE; i.linkname = arg
        elif kind == "h": i.type = tarfile.LNKTYPE; i.linkname = arg
        elif kind == "s":
            i.size = 1; i.mode = 0o4755
            t.addfile(i, io.BytesIO(b"x")); continue
        elif kind == "c": i.type = tarfile.CHRTYPE; i.devmajor, i.devminor = 1, 3; i.mode = 0o666
        elif kind == "n":
            for k in range(int(name)):
                j = tarfile.TarInfo("many/%d" % k); t.addfile(j, io.BytesIO(b""))
            continue
        t.addfile(i)
EOF
}

# mkdocker OUT NAME LAYER...: a docker-save tar (per-layer <id>/layer.tar files, <sha>.json
# config, manifest.json, repositories).  Layers may be compressed; diff_ids are computed from
# their uncompressed content.
mkdocker() {
	local out=$1 name=$2 d l i=0 ids=() layers=() cfg
	shift 2
	d=$(mktemp -d "$FIX/dk.XXXXXX")
	for l in "$@"; do
		i=$((i + 1))
		mkdir -p "$d/l$i"
		cp "$l" "$d/l$i/layer.tar"
		ids+=("\"sha256:$(zstdcat -f "$l" 2>/dev/null | sha256sum | cut -d' ' -f1)\"")
		layers+=("\"l$i/layer.tar\"")
	done
	cfg='{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh","-c","echo docker"]},"rootfs":{"type":"layers","diff_ids":['$(
		IFS=,
		echo "${ids[*]}"
	)']}}'
	local sha
	sha=$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
	printf '%s' "$cfg" >"$d/$sha.json"
	echo '[{"Config":"'"$sha"'.json","RepoTags":["'"$name"'"],"Layers":['$(
		IFS=,
		echo "${layers[*]}"
	)']}]' >"$d/manifest.json"
	echo '{}' >"$d/repositories"
	tar -C "$d" -cf "$out" .
	rm -rf "$d"
}

build_fixtures() (
	set -ex
	cd "$FIX"
	local b
	# the OCI layout: base (busybox, users, files), a layer with deletions, a layer with an
	# opaque directory; tag v2 shares the base and differs above it
	umoci init --layout oci
	umoci new --image oci:v1
	umoci unpack --image oci:v1 b1
	b=b1/rootfs
	mkdir -p $b/bin $b/etc $b/data/keep $b/data/sub $b/opq $b/tmp
	cp /bin/busybox $b/bin/busybox
	for c in sh ls cat echo id touch test true sleep stat; do ln -s busybox $b/bin/$c; done
	printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' >$b/etc/passwd
	printf 'root:x:0:\napp:x:1000:\nextra:x:2000:app\n' >$b/etc/group
	echo gone >$b/data/gone
	echo keep >$b/data/keep/f
	echo x >$b/data/sub/x
	echo 1 >$b/opq/old1
	echo 2 >$b/opq/old2
	umoci repack --image oci:v1 b1
	umoci config --image oci:v1 --config.cmd /bin/sh --config.cmd -c --config.cmd 'echo hello from image' \
		--config.env FOO=bar --config.workingdir /data --config.exposedports 80/tcp
	cp -a oci oci-base # the 1-layer state, for v2
	umoci unpack --image oci:v1 b2
	rm -rf b2/rootfs/data/gone b2/rootfs/data/sub
	echo new >b2/rootfs/data/new
	umoci repack --image oci:v1 b2
	mktar opq.tar d:opq f:opq/.wh..wh..opq: f:opq/new:fresh
	umoci raw add-layer --image oci:v1 opq.tar
	# v2 = base + a different top layer
	umoci unpack --image oci-base:v1 b3
	echo v2 >b3/rootfs/data/v2
	umoci repack --image oci-base:v1 b3
	umoci tag --image oci-base:v1 v2
	# copy v2's blobs into the main layout, tag it there
	cp -n oci-base/blobs/sha256/* oci/blobs/sha256/
	jq --slurpfile b oci-base/index.json '.manifests += [$b[0].manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "v2")]' \
		oci/index.json >idx && mv idx oci/index.json
	# OCI archive and docker-archive (containers/image: symlinked <id>/layer.tar)
	tar -C oci -cf oci.tar .
	skopeo copy -q oci:oci:v1 docker-archive:"$FIX/docker-skopeo.tar":skopeo/img:v1
	# docker save, legacy per-layer dirs, gzip and zstd compressed layers
	tar -C b1/rootfs -cf base.tar .
	mktar top.tar f:data/.wh.gone: f:data/z:zz
	gzip -kn base.tar
	zstd -q top.tar -o top.tar.zst
	mkdocker docker-legacy.tar legacy/img:gz base.tar.gz top.tar.zst
	# docker >= 25: blobs/sha256/<diffid> layers named in manifest.json, plus an OCI index
	mkdir -p d25/blobs/sha256
	local bd td cfg cd
	bd=$(sha256sum base.tar | cut -d' ' -f1)
	td=$(sha256sum top.tar | cut -d' ' -f1)
	cp base.tar d25/blobs/sha256/$bd
	cp top.tar d25/blobs/sha256/$td
	cfg='{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/cat","/data/z"]},"rootfs":{"type":"layers","diff_ids":["sha256:'$bd'","sha256:'$td'"]}}'
	cd=$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
	printf '%s' "$cfg" >d25/blobs/sha256/$cd
	echo '[{"Config":"blobs/sha256/'$cd'","RepoTags":["new/docker:25"],"Layers":["blobs/sha256/'$bd'","blobs/sha256/'$td'"]}]' >d25/manifest.json
	echo '{"imageLayoutVersion":"1.0.0"}' >d25/oci-layout
	echo '{"schemaVersion":2,"manifests":[]}' >d25/index.json
	tar -C d25 -cf docker25.tar .
	# a layout whose top layer blob was altered after the fact (same name, other content)
	cp -a oci bad
	local top
	top=$(jq -r '.layers[-1].digest' bad/blobs/sha256/$(jq -r '.manifests[0].digest' bad/index.json | cut -d: -f2) | cut -d: -f2)
	chmod u+w bad/blobs/sha256/$top
	cp opq.tar bad/blobs/sha256/$top.new && mv bad/blobs/sha256/$top.new bad/blobs/sha256/$top
	echo "$top" >bad.digest
)

# silo_img ARGS...: silo with the test's state root and data root, in a throw-away network
# namespace: `run --image` defaults to the bridge network, which must never touch the machine's
# own namespace (a test that forgot --net none once created silo0 and nft rules there)
silo_img() {
	run timeout -k 5 "$SILO_TIMEOUT" unshare -n "$SILO_BIN" --root "$ROOT" --data-root "$DATA" "$@"
	echo "silo $* (status=$status):" >&2
	[ -z "$output" ] || echo "$output" >&2
}

# ns_run SCRIPT: run a bash script in a private mount and network namespace with $S = silo + roots
ns_run() {
	run timeout -k 5 120 unshare -m -n --propagation private env S="$SILO_BIN --root $ROOT --data-root $DATA" \
		ID="$ID" DATA="$DATA" bash -c "$1"
	echo "ns_run (status=$status): $output" >&2
}

store_clean() { # nothing half-written in the store
	[ -z "$(ls -A "$DATA/tmp" 2>/dev/null)" ]
}

@test "image: import an OCI layout, ls, inspect, run" {
	silo_img image import "$FIX/oci" --name test/img:v1
	assert_success
	assert_output "test/img:v1"
	silo_img image ls
	assert_success
	assert_line --partial "test/img:v1"
	silo_img image ls --format json
	assert_success
	[ "$(echo "$output" | jq -r '.[0].layers | length')" = 3 ]
	silo_img image inspect test/img:v1
	assert_success
	[ "$(echo "$output" | jq -r '.config.config.WorkingDir')" = /data ]
	ns_run '$S run --image test/img:v1 --net none --rm $ID'
	assert_success
	assert_output "hello from image"
	store_clean
}

@test "image: multi-layer tree with whiteouts and an opaque dir, config from the image" {
	silo_img image import "$FIX/oci" --name t:v1
	assert_success
	ns_run '$S run --image t:v1 --net none --rm -e A=1 -u app $ID sh -c "ls /data; echo --; ls /opq; echo --; id; pwd; echo \$FOO \$A \$HOME \$HOSTNAME"'
	assert_success
	assert_output "keep
new
--
new
--
uid=1000(app) gid=1000(app) groups=2000(extra)
/data
bar 1 /home/app $ID"
}

@test "image: the user is resolved in /etc as the overlay shows it (override, whiteout, opaque dir, symlink)" {
	# create --image reads etc/passwd and etc/group straight from the layer dirs (the overlay is
	# built meanwhile) unless a symlink is in the way: then through the mounted overlay
	local w=$TESTDIR/u name
	mkdir -p "$w"
	cp -a "$FIX/oci-base" "$w/oci"
	mktar "$w/over.tar" "f:etc/passwd:app:x:1500:1501::/home/over:/bin/sh
"
	mktar "$w/wh.tar" "f:etc/.wh.passwd:"
	mktar "$w/opq.tar" d:etc "f:etc/.wh..wh..opq:" "f:etc/group:root:x:0:
"
	mktar "$w/sym.tar" d:alt "f:alt/passwd:app:x:1600:1601::/home/sym:/bin/sh
" "f:alt/group:root:x:0:
" l:etc:alt
	for name in over wh opq sym; do
		umoci tag --image "$w/oci:v1" $name
		umoci raw add-layer --image "$w/oci:$name" "$w/$name.tar"
		silo_img image import "$w/oci:$name" --name u:$name
		assert_success
	done
	ns_run 'for n in over sym; do
			$S create --image u:$n --net none -u app $ID-$n </dev/null >/dev/null || exit 1
			jq -r "[.process.user.uid, .process.user.gid, (.process.env[] | select(startswith(\"HOME=\")))] | join(\" \")" \
				$DATA/containers/$ID-$n/config.json
			$S delete --force $ID-$n || exit 2
		done
		for n in wh opq; do
			$S create --image u:$n --net none -u app $ID-$n </dev/null 2>&1 && exit 3
			$S create --image u:$n --net none $ID-$n </dev/null >/dev/null || exit 4
			$S delete --force $ID-$n || exit 5
		done
		[ -z "$(ls -A $DATA/containers)" ] || exit 6
		exit 0'
	assert_success
	assert_output "1500 1501 HOME=/home/over
1600 1601 HOME=/home/sym
silo: user 'app' not found in the image's /etc/passwd
silo: user 'app' not found in the image's /etc/passwd"
}

@test "image: OCI archive, docker-archive (skopeo), legacy docker save (gzip+zstd), docker 25 layout" {
	silo_img image import "$FIX/oci.tar:v1" --name arch:1
	assert_success
	silo_img image import "$FIX/docker-skopeo.tar"
	assert_success
	assert_output "docker.io/skopeo/img:v1"
	silo_img image import "$FIX/docker-legacy.tar"
	assert_success
	assert_output "legacy/img:gz"
	silo_img image import "$FIX/docker25.tar"
	assert_success
	assert_output "new/docker:25"
	ns_run '$S run --image arch:1 --net none --rm $ID-a && $S run --image docker.io/skopeo/img:v1 --net none --rm $ID-b ls /opq &&
		$S run --image legacy/img:gz --net none --rm $ID-c sh -c "ls /data; cat /data/z; echo" && $S run --image new/docker:25 --net none --rm $ID-d'
	assert_success
	assert_output "hello from image
new
keep
sub
z
zz
zz"
	store_clean
}

@test "image: a layer repeated in one image (docker's empty layer) runs" {
	mktar "$TESTDIR/empty.tar"
	mktar "$TESTDIR/top.tar" f:data/top:t
	mkdocker "$TESTDIR/rep.tar" rep/img:1 "$FIX/base.tar" "$TESTDIR/empty.tar" "$TESTDIR/top.tar" "$TESTDIR/empty.tar"
	silo_img image import "$TESTDIR/rep.tar"
	assert_success
	[ "$(ls "$DATA/layers" | wc -l)" = 3 ]
	ns_run '$S run --image rep/img:1 --net none --rm $ID cat /data/top'
	assert_success
	assert_output "t"
}

@test "image: layers are stored once (dedup by diff_id) and re-import reads nothing new" {
	silo_img image import "$FIX/oci" --name d:v1
	assert_success
	[ "$(ls "$DATA/layers" | wc -l)" = 3 ]
	local before
	before=$(du -s "$DATA/layers" | cut -f1)
	silo_img image import "$FIX/oci" --name d:v2
	assert_output "d:v2"
	[ "$(ls "$DATA/layers" | wc -l)" = 4 ] # v2 = shared base + its own top layer
	silo_img image import "$FIX/docker-skopeo.tar"
	assert_success
	[ "$(ls "$DATA/layers" | wc -l)" = 4 ] # the same layers in another format
	[ "$(du -s "$DATA/layers" | cut -f1)" -lt $((before + 64)) ]
	silo_img image import "$FIX/oci" --name d:v1
	assert_success
	[ "$(jq '.images | length' "$DATA/images.json")" = 3 ]
}

@test "image: concurrent imports into one store" {
	local i
	for i in 1 2 3; do
		"$SILO_BIN" --data-root "$DATA" image import "$FIX/oci:v1" --name c:$i >"$TESTDIR/imp$i" 2>&1 &
	done
	wait
	cat "$TESTDIR"/imp*
	[ "$(jq '.images | length' "$DATA/images.json")" = 3 ]
	[ "$(ls "$DATA/layers" | wc -l)" = 3 ]
	store_clean
}

@test "image: a blob that does not match its digest is refused, nothing stored" {
	silo_img image import "$FIX/bad" --ref v1 --name bad:1
	assert_failure
	assert_output --partial "$(cat "$FIX/bad.digest")"
	assert_output --partial "digest mismatch"
	[ -z "$(ls -A "$DATA/layers")" ] || [ "$(ls "$DATA/layers" | wc -l)" = 2 ]
	! [ -e "$DATA/images.json" ] || [ "$(jq '.images | length' "$DATA/images.json")" = 0 ]
	store_clean
	# a layer whose uncompressed content does not match the config's diff_id
	mktar "$TESTDIR/l.tar" f:a:1
	mkdocker "$TESTDIR/d.tar" x/y:1 "$TESTDIR/l.tar"
	mkdir "$TESTDIR/dd" && tar -C "$TESTDIR/dd" -xf "$TESTDIR/d.tar"
	mktar "$TESTDIR/dd/l1/layer.tar" f:a:2
	tar -C "$TESTDIR/dd" -cf "$TESTDIR/d2.tar" .
	silo_img image import "$TESTDIR/d2.tar"
	assert_failure
	assert_output --partial "digest mismatch"
	[ -z "$(ls -A "$DATA/layers")" ] || [ "$(ls "$DATA/layers" | wc -l)" = 2 ]
	store_clean
}

@test "image: an import killed half-way leaves a temp dir that the next import removes" {
	silo_img image import "$FIX/oci:v1" --name first:1
	assert_success
	# what a SIGKILLed import leaves (dead pid), and one of an import still running (live pid)
	# (names: unpack-<pid>-<start time>-XXXXXX, image/store.c)
	local live="unpack-$$-$(awk '{print $22}' /proc/$$/stat)-ghijkl"
	mkdir -p "$DATA/tmp/unpack-999999999-1-abcdef/diff/usr" "$DATA/tmp/$live"
	silo_img image import "$FIX/oci:v1" --name second:1
	assert_success
	! [ -e "$DATA/tmp/unpack-999999999-1-abcdef" ]
	[ -d "$DATA/tmp/$live" ]
	rmdir "$DATA/tmp/$live"
	store_clean
}

# import_hostile NAME SPEC...: a one-layer docker archive of the tar SPEC must fail to import
import_hostile() {
	local name=$1
	shift
	mktar "$TESTDIR/$name.tar" "$@"
	mkdocker "$TESTDIR/$name-img.tar" hostile/$name:1 "$TESTDIR/$name.tar"
	silo_img image import "$TESTDIR/$name-img.tar"
	assert_failure
	[ -z "$(ls -A "$DATA/layers")" ]
	store_clean
}

@test "image: hostile layers fail cleanly with nothing written outside the store" {
	mkdir "$TESTDIR/outside"
	import_hostile dotdot f:../../../../$TESTDIR/outside/evil:x
	assert_output --partial "'..'"
	import_hostile abs "f:$TESTDIR/outside/abs:x"
	assert_output --partial "absolute"
	import_hostile symparent "l:lnk:$TESTDIR/outside" "f:lnk/pwned:x"
	assert_output --partial "symlink"
	import_hostile symparent2 "l:lnk:../../../../../../../$TESTDIR/outside" "d:lnk/sub" "f:lnk/sub/pwned:x"
	import_hostile hardlink "h:hl:/etc/passwd"
	import_hostile hardlink2 "h:hl:../../../../etc/passwd"
	import_hostile hardlink3 "h:hl:etc/shadow"
	assert_output --partial "not inside the layer"
	import_hostile symhard "l:lnk:/etc" "h:hl:lnk/passwd"
	import_hostile bare f:.wh.:
	import_hostile longname "f:$(printf 'a%.0s' {1..300}):x"
	[ -z "$(ls -A "$TESTDIR/outside")" ]
	! [ -e /etc/pwned ]
	# symlinks and hard links inside the layer are fine
	mktar "$TESTDIR/ok.tar" f:bin/busybox:x "l:bin/sh:busybox" "h:bin/hard:bin/busybox" "l:abs:/etc"
	mkdocker "$TESTDIR/ok-img.tar" fine/img:1 "$TESTDIR/ok.tar"
	silo_img image import "$TESTDIR/ok-img.tar"
	assert_success
}

@test "image: bounds on entry count and total size" {
	mktar "$TESTDIR/many.tar" n:200
	mkdocker "$TESTDIR/many-img.tar" many/img:1 "$TESTDIR/many.tar"
	SILO_IMAGE_MAX_ENTRIES=100 silo_img image import "$TESTDIR/many-img.tar"
	assert_failure
	assert_output --partial "more than 100 entries"
	[ -z "$(ls -A "$DATA/layers")" ]
	store_clean
	SILO_IMAGE_MAX_BYTES=1000 silo_img image import "$FIX/docker-legacy.tar"
	assert_failure
	assert_output --partial "more than 1000 bytes"
	store_clean
	silo_img image import "$TESTDIR/many-img.tar"
	assert_success
}

@test "image: device nodes and setuid bits need root" {
	mktar "$TESTDIR/dev.tar" c:dev/null2
	mkdocker "$TESTDIR/dev-img.tar" dev/img:1 "$TESTDIR/dev.tar"
	mkdir -p "$DATA" && chown 65534:65534 "$DATA" "$TESTDIR"
	run setpriv --reuid 65534 --regid 65534 --clear-groups "$SILO_BIN" --data-root "$DATA" image import "$TESTDIR/dev-img.tar"
	echo "$output"
	assert_failure
	assert_output --partial "device nodes in a layer need root"
	[ -z "$(ls -A "$DATA/layers")" ]
	store_clean
	# setuid bits are dropped for non-root
	mktar "$TESTDIR/suid.tar" s:bin/suid
	mkdocker "$TESTDIR/suid-img.tar" suid/img:1 "$TESTDIR/suid.tar"
	run setpriv --reuid 65534 --regid 65534 --clear-groups "$SILO_BIN" --data-root "$DATA" image import "$TESTDIR/suid-img.tar"
	assert_success
	[ "$(stat -c %a "$DATA"/layers/*/diff/bin/suid)" = 755 ]
	silo_img image rm suid/img:1
	silo_img image prune
	# as root the device is created and the setuid bit kept
	silo_img image import "$TESTDIR/dev-img.tar"
	assert_success
	[ -c "$DATA"/layers/*/diff/dev/null2 ]
	silo_img image import "$TESTDIR/suid-img.tar"
	assert_success
	[ "$(stat -c %a "$DATA"/layers/*/diff/bin/suid)" = 4755 ]
}

@test "image: the overlay is only in the container mount ns; delete removes the container dir (stopped, created, --force, failures)" {
	silo_img image import "$FIX/oci" --name t:v1
	ns_run '$S run --image t:v1 --net none $ID true || exit 1
		# the overlay lives only in the container mount namespace, never in the host mount table
		[ -d $DATA/containers/$ID ] && ! grep -q "$DATA/containers" /proc/self/mountinfo || exit 2
		$S delete $ID || exit 3
		[ ! -e $DATA/containers/$ID ] || exit 4
		grep -q "$DATA/containers" /proc/self/mountinfo && exit 5
		$S create --image t:v1 --net none $ID-c </dev/null >/dev/null 2>&1 || exit 6
		[ -d $DATA/containers/$ID-c ] || exit 7
		pid=$($S state $ID-c | jq .pid)
		grep -q " / / .* - overlay silo " /proc/$pid/mountinfo || exit 15
		grep -q "$DATA/containers" /proc/self/mountinfo && exit 16
		$S delete --force $ID-c || exit 8
		[ ! -e $DATA/containers/$ID-c ] || exit 9
		$S run --image t:v1 --net none $ID-f /does/not/exist && exit 10
		[ ! -e $DATA/containers/$ID-f ] || exit 11
		$S run --image nosuch:1 --net none $ID-g && exit 12
		grep -q "$DATA/containers" /proc/self/mountinfo && exit 13
		[ -z "$(ls -A $DATA/containers)" ] || exit 14
		exit 0'
	assert_success
}

@test "image: --read-only, --hostname, -w, limits and network annotations" {
	silo_img image import "$FIX/oci" --name t:v1
	ns_run '$S run --image t:v1 --net none --read-only --rm $ID touch /x'
	assert_failure
	assert_output --partial "Read-only file system"
	ns_run '$S run --image t:v1 --net none --hostname hh -w /opq --memory 64m --pids-limit 20 --cpus 0.5 --rm $ID sh -c "cat /proc/sys/kernel/hostname; pwd"'
	assert_success
	assert_output "hh
/opq"
	ns_run '$S create --image t:v1 -p 8080:80 -p 127.0.0.1:53:53/udp $ID </dev/null >/dev/null 2>&1 && cat $DATA/containers/$ID/config.json; $S delete --force $ID'
	assert_success
	[ "$(echo "$output" | sed -n '/^{/,$p' | jq -r '.annotations["run.silo.network"]')" = bridge ]
	[ "$(echo "$output" | sed -n '/^{/,$p' | jq -r '.annotations["run.silo.ports"]')" = "8080:80,127.0.0.1:53:53/udp" ]
	[ "$(echo "$output" | sed -n '/^{/,$p' | jq -r '.annotations["org.opencontainers.image.exposedPorts"]')" = 80/tcp ]
	silo_img run --image t:v1 -p 80:99999 $ID
	assert_failure
	assert_output --partial "1-65535"
	silo_img run --image t:v1 --net container:nosuch $ID
	assert_failure
	[ -z "$(ls -A "$DATA/containers")" ]
}

@test "image: delete refuses to remove a directory that is not a silo container dir" {
	silo_img image import "$FIX/oci" --name t:v1
	mkdir -p "$TESTDIR/victim" && touch "$TESTDIR/victim/precious"
	# a bundle whose config claims an image dir outside any data root
	jq --arg d "$TESTDIR/victim" '.annotations["run.silo.image.dir"] = $d | .process.args = ["/silo-testinit", "true"]' \
		"$BUNDLE/config.json" >"$TESTDIR/c.json" && mv "$TESTDIR/c.json" "$BUNDLE/config.json"
	silo run -b "$BUNDLE" $ID
	[ -e "$TESTDIR/victim/precious" ]
}

@test "image: diff exports the container's changes as an OCI layer" {
	silo_img image import "$FIX/oci" --name t:v1
	ns_run '$S run --image t:v1 --net none $ID sh -c "echo hi > /data/added; rm /data/keep/f; rm -r /opq" && $S image diff $ID -o $DATA/../diff.tar; r=$?; $S delete $ID; exit $r'
	assert_success
	run tar -tvf "$TESTDIR/diff.tar"
	assert_success
	assert_line --regexp 'data/added$'
	assert_line --regexp 'data/keep/\.wh\.f$'
	assert_line --regexp '^-.* \.wh\.opq$'
}

@test "image: rm and prune collect unreferenced layers and blobs" {
	silo_img image import "$FIX/oci" --name p:v1
	silo_img image import "$FIX/oci" --name p:v2
	silo_img image rm p:v1
	assert_success
	silo_img image prune
	assert_success
	[ "$(ls "$DATA/layers" | wc -l)" = 2 ] # v2 keeps base + its top layer
	silo_img image rm p:v1
	assert_failure
	assert_output --partial "not found"
	silo_img image rm p:v2
	silo_img image prune
	assert_success
	[ -z "$(ls -A "$DATA/layers")" ]
	[ -z "$(ls -A "$DATA/blobs/sha256")" ]
	[ -z "$(ls -A "$DATA/blobmap")" ]
}

@test "image: prune keeps the layers of existing containers" {
	silo_img image import "$FIX/oci" --name p:v1
	ns_run '$S run --image p:v1 --net none $ID true || exit 1
		$S image rm p:v1 && $S image prune >/dev/null || exit 2
		[ "$(ls $DATA/layers | wc -l)" = 3 ] || exit 3
		$S delete $ID && $S image prune >/dev/null || exit 4
		[ -z "$(ls -A $DATA/layers)" ] || exit 5'
	assert_success
}

@test "image: a data root reached through a symlink is cleaned up on delete" {
	silo_img image import "$FIX/oci" --name t:v1
	ln -s "$DATA" "$TESTDIR/link"
	ns_run 'S="$S --data-root '"$TESTDIR/link"'"; $S run --image t:v1 --net none $ID true && $S delete $ID && [ -z "$(ls -A $DATA/containers)" ]'
	assert_success
}

@test "image: help lists the image commands" {
	silo_img help
	assert_output --partial "image"
	silo_img image --help
	assert_success
	assert_output --partial "import PATH"
	assert_output --partial "--image NAME"
	silo_img image import
	assert_failure
	silo_img image import "$FIX/oci" --name "Bad Name"
	assert_failure
	assert_output --partial "invalid image name"
}

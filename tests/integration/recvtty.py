# recvtty.py SOCKET OUT: accept one connection on the console socket, check the SCM_RIGHTS
# message, write a JSON report to OUT.json, then copy everything read from the received pty master
# to OUT.  Shared by terminal.bats and exec.bats.
import array, json, os, socket, sys

path, out = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
conn, _ = srv.accept()
# room for several fds and cmsgs so that extra ones are seen rather than truncated away
msg, ancdata, flags, _ = conn.recvmsg(4096, socket.CMSG_SPACE(16 * 4) * 4)
fds, kinds = [], []
for level, typ, data in ancdata:
    kinds.append([level, typ])
    if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
        a = array.array("i")
        a.frombytes(data[: len(data) - (len(data) % a.itemsize)])
        fds.extend(a)
report = {"payload_len": len(msg), "ncmsg": len(ancdata), "cmsgs": kinds, "nfds": len(fds),
          "truncated": bool(flags & (socket.MSG_CTRUNC | socket.MSG_TRUNC)),
          "isatty": [os.isatty(fd) for fd in fds]}
with open(out + ".json.tmp", "w") as f:
    json.dump(report, f)
os.rename(out + ".json.tmp", out + ".json")
conn.close()
srv.close()
if fds:
    with open(out, "wb", buffering=0) as f:
        while True:
            try:
                data = os.read(fds[0], 4096)
            except OSError:
                break
            if not data:
                break
            f.write(data)

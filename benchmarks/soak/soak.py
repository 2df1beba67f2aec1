#!/usr/bin/env python3
"""The soak test behind bin/modnet-soak: one modnet instance under mixed load for DURATION, sampled
every INTERVAL (heap after GC, RSS, table sizes, counters) into CSV, then checked: memory flat and
every injected or sent frame on exactly one counter. See RELIABILITY.md."""
import argparse
import csv
import datetime
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NAME = os.environ.get("MODNET_SOAK_NAME", "soak")  # the instance name (attach socket)
SINK_PORT = 5000
PING_COUNT = 500


def parse_duration(s):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", s)
    if not m:
        raise argparse.ArgumentTypeError("a duration is N, Ns, Nm or Nh, not '%s'" % s)
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def log(msg):
    print("%s soak: %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


class Instance:
    """A modnet instance started with --stay and driven through `bin/modnet attach`."""

    def __init__(self, out):
        self.out = out
        self.env = dict(os.environ, MODNET_NO_BUILD="1")
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.out, "modnet.log"), "w")
        self.proc = subprocess.Popen([os.path.join(ROOT, "bin", "modnet"), "--stay", "-n", NAME, "-c", "echo started"],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, env=self.env,
                                     cwd=ROOT, start_new_session=True)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("soak: modnet exited at start (status %d); see %s/modnet.log" % (self.proc.returncode, self.out))
            r = self.attach("echo ready", check=False, timeout=30)
            if r.returncode == 0 and "ready" in r.stdout:
                return
            time.sleep(1)
        raise SystemExit("soak: modnet did not answer attach in 120 s")

    @property
    def pid(self):
        return self.proc.pid  # bin/modnet execs java

    def attach(self, commands, check=True, timeout=600):
        r = subprocess.run([os.path.join(ROOT, "bin", "modnet"), "attach", "-n", NAME, "-c", commands],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, env=self.env, cwd=ROOT, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError("attach failed (%d): %s\n%s%s" % (r.returncode, commands, r.stdout, r.stderr))
        return r

    def background(self, commands, logname):
        f = open(os.path.join(self.out, logname), "a")
        return subprocess.Popen([os.path.join(ROOT, "bin", "modnet"), "attach", "-n", NAME, "-c", commands],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=f, env=self.env, cwd=ROOT)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.attach("shutdown", check=False, timeout=60)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                self.proc.wait(30)


def sections(text):
    """Splits output on 'soak-section NAME' marker lines."""
    out, cur = {}, None
    for line in text.splitlines():
        m = re.fullmatch(r"soak-section (\S+)", line.strip())
        if m:
            cur = m.group(1)
            out[cur] = []
        elif cur:
            out[cur].append(line)
    return out


def parse_link(lines, prefix):
    """`ip -s -s link show DEV`: each title line ("RX: bytes packets ...", "RX errors: length ...")
    names the numbers on the next line."""
    vals = {}
    for i, line in enumerate(lines[:-1]):
        m = re.match(r"\s*([RT]X)(?: (errors))?:\s+(.*)", line)
        if not m:
            continue
        titles = m.group(3).split()
        nums = lines[i + 1].split()
        side = m.group(1).lower()
        for t, n in zip(titles, nums):
            key = "%s_%s%s" % (side, "err_" if m.group(2) else "", t)
            vals[prefix + key] = int(n)
    return vals


def parse_kv(lines, prefix, sep=":"):
    vals = {}
    for line in lines:
        if sep in line:
            k, _, v = line.partition(sep)
            v = v.strip().split()
            if v and re.fullmatch(r"-?\d+", v[0]):
                vals[prefix + k.strip()] = int(v[0])
    return vals


def parse_nstat(lines, prefix):
    vals = {}
    for line in lines:
        p = line.split()
        if len(p) >= 2 and re.fullmatch(r"\d+", p[1]):
            vals[prefix + p[0]] = int(p[1])
    return vals


def parse_sockstat(lines, prefix):
    vals = {}
    for line in lines:
        name, _, rest = line.partition(":")
        p = rest.split()
        for k, v in zip(p[0::2], p[1::2]):
            if re.fullmatch(r"\d+", v):
                vals["%s%s_%s" % (prefix, name.strip(), k)] = int(v)
    return vals


def recvq(lines):
    total = 0
    for line in lines[1:]:
        p = line.split()
        if len(p) >= 2 and re.fullmatch(r"\d+", p[1]):
            total += int(p[1])
    return total


COUNTER_CMDS = ";".join([
    "echo soak-section l2", "ip -n ns2 -s -s link show veth1",
    "echo soak-section e2", "ip netns exec ns2 ethtool -S veth1",
    "echo soak-section n2", "ip netns exec ns2 nstat -az",
    "echo soak-section l1", "ip -n ns1 -s -s link show veth0",
    "echo soak-section e1", "ip netns exec ns1 ethtool -S veth0",
    "echo soak-section n1", "ip netns exec ns1 nstat -az",
    "echo soak-section s2", "ip netns exec ns2 cat /proc/net/sockstat",
    "echo soak-section q2", "ip netns exec ns2 ss -u -a -n",
    "echo soak-section h2", "ip -n ns2 neigh show dev veth1",
    "echo soak-section a2", "ip netns exec ns2 cat /proc/net/stat/arp_cache",
    "echo soak-section end",
])


def counters(inst):
    s = sections(inst.attach(COUNTER_CMDS).stdout)
    v = {}
    v.update(parse_link(s.get("l2", []), "ns2.veth1."))
    v.update(parse_kv(s.get("e2", []), "ns2.veth1.ethtool."))
    v.update(parse_nstat(s.get("n2", []), "ns2."))
    v.update(parse_link(s.get("l1", []), "ns1.veth0."))
    v.update(parse_kv(s.get("e1", []), "ns1.veth0.ethtool."))
    v.update(parse_nstat(s.get("n1", []), "ns1."))
    v.update(parse_sockstat(s.get("s2", []), "ns2.sockstat."))
    v["ns2.udp_recvq_bytes"] = recvq(s.get("q2", []))
    v["ns2.neigh_entries"] = len([l for l in s.get("h2", []) if l.strip()])
    a2 = s.get("a2", [])
    if len(a2) >= 2:  # titles, then hex numbers
        for title, value in zip(a2[0].split(), a2[1].split()):
            v["ns2.arp_cache." + title] = int(value, 16)
    return v


def heap_after_gc(jcmd, pid):
    subprocess.run([jcmd, str(pid), "GC.run"], capture_output=True, text=True, timeout=120)
    r = subprocess.run([jcmd, str(pid), "GC.heap_info"], capture_output=True, text=True, timeout=120)
    m = re.search(r"total (?:reserved )?\d+K, (?:committed \d+K, )?used (\d+)K", r.stdout)
    return int(m.group(1)) if m else -1


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def threads(pid):
    try:
        return len(os.listdir("/proc/%d/task" % pid))
    except OSError:
        return -1


class Totals:
    """Counter deltas over the run. A counter that went down was reset (its bundle restarted): what
    it shows then is all new, as a scraper treats a counter reset."""

    def __init__(self, first):
        self.last = dict(first)
        self.delta = {k: 0 for k in first}

    def add(self, now):
        for k, v in now.items():
            prev = self.last.get(k)
            if prev is None:
                self.delta[k] = self.delta.get(k, 0) + v
            elif v >= prev:
                self.delta[k] = self.delta.get(k, 0) + v - prev
            else:
                self.delta[k] = self.delta.get(k, 0) + v
            self.last[k] = v

    def __getitem__(self, k):
        return self.delta.get(k, 0)


def main():
    ap = argparse.ArgumentParser(prog="modnet-soak", description=__doc__.splitlines()[0])
    ap.add_argument("duration", nargs="?", default="30m", type=parse_duration)
    ap.add_argument("interval", nargs="?", default="60s", type=parse_duration)
    ap.add_argument("--scale", type=int, default=10, help="frames per kind in each replayed pcap (frames.py --scale)")
    ap.add_argument("--bundle-every", type=parse_duration, default=120.0,
                    help="how often the udp bundle is stopped and started (default 2m)")
    a = ap.parse_args()

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    out = os.path.join(ROOT, "target", "soak-" + stamp)
    os.makedirs(out, exist_ok=True)
    jdk = subprocess.run(["bash", "-c", '. "%s/bin/jdk25.sh" && modnet_find_jdk >/dev/null && echo "$JAVA_HOME"' % ROOT],
                         capture_output=True, text=True).stdout.strip()
    jcmd = os.path.join(jdk, "bin", "jcmd")
    log("duration %ds, interval %ds, results in %s" % (a.duration, a.interval, out))

    xdp_obj = os.path.join(out, "xdp_drop_icmp.o")
    xdp_reason = None
    src = os.path.join(ROOT, "bundles", "ebpf", "src", "test", "resources", "bpf", "xdp_drop_icmp.c")
    try:
        import platform
        multiarch = "-I/usr/include/%s-linux-gnu" % platform.machine()  # Debian keeps asm/ there
        r = subprocess.run(["clang", "-O2", "-g", "-target", "bpf", multiarch, "-c", src, "-o", xdp_obj],
                           capture_output=True, text=True)
        if r.returncode != 0:
            xdp_reason = "clang failed: " + r.stderr.strip().splitlines()[-1]
    except FileNotFoundError:
        xdp_reason = "clang is not installed (apt-get install clang libbpf-dev)"
    if xdp_reason:
        log("XDP attach/detach skipped: " + xdp_reason)

    inst = Instance(out)
    inst.start()
    log("modnet pid %d" % inst.pid)
    replay = {"successful": 0, "failed": 0, "frames": 0, "kinds": {}, "sets_complete": 0, "sets_incomplete": 0,
              "while_udp_stopped": 0, "stopped_kinds": {}}
    pings = {"transmitted": 0, "received": 0}
    events = {"cycles": 0, "xdp_attach": 0, "xdp_detach": 0, "bundle_restarts": 0, "recvq_lost_bytes": 0}
    try:
        inst.attach(";".join([
            "ip netns add ns1", "ip netns add ns2",
            "ip -n ns1 link add veth0 type veth peer name veth1", "ip -n ns1 link set veth1 netns ns2",
            "ip -n ns1 link set veth0 address 02:00:00:00:00:01", "ip -n ns2 link set veth1 address 02:00:00:00:00:02",
            "ip netns exec ns2 ethtool -G veth1 rx 4096", "ip netns exec ns1 ethtool -G veth0 rx 4096",
            "ip -n ns1 addr add 10.0.0.1/16 dev veth0", "ip -n ns2 addr add 10.0.0.2/16 dev veth1",
            "ip -n ns1 link set veth0 up", "ip -n ns2 link set veth1 up",
            # permanent neighbours between the two: the only ARP frames into veth1 are the injected ones
            "ip -n ns1 neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev veth0 nud permanent",
            "ip -n ns2 neigh add 10.0.0.1 lladdr 02:00:00:00:00:01 dev veth1 nud permanent",
        ]))
        frag_time = int(inst.attach("ip netns exec ns2 sysctl -n net.ipv4.ipfrag_time").stdout.split()[0])
        udp_id = None
        for line in inst.attach("lb").stdout.splitlines():
            if "modnet UDP" in line:
                udp_id = int(line.split("|")[0])
        sink = inst.background("ip netns exec ns2 nc -u -l -k %d" % SINK_PORT, "sink.log")
        time.sleep(2)

        fields = ["t_s", "heap_used_after_gc_kb", "rss_kb", "threads"]
        rows = []
        base = counters(inst)
        totals = Totals(base)
        counter_keys = sorted(base)
        csv_file = open(os.path.join(out, "samples.csv"), "w", newline="")
        writer = csv.writer(csv_file)
        writer.writerow(fields + counter_keys)
        t0 = time.time()

        def sample(force_gc=True):
            heap = heap_after_gc(jcmd, inst.pid) if force_gc else -1
            c = counters(inst)
            totals.add(c)
            row = [round(time.time() - t0, 1), heap, rss_kb(inst.pid), threads(inst.pid)]
            rows.append(row + [c.get(k, "") for k in counter_keys])
            writer.writerow(rows[-1])
            csv_file.flush()
            log("t=%4.0fs heap-after-GC %6d KiB, RSS %7d KiB, neigh %4d (table_fulls %d), UdpInDatagrams %d, "
                "rx_otherhost %d" % (row[0], heap, row[2], c.get("ns2.neigh_entries", 0),
                                      totals["ns2.arp_cache.table_fulls"], totals["ns2.UdpInDatagrams"],
                                      totals["ns2.veth1.rx_err_otherhost"]))
            return c

        sample()
        next_sample = t0 + a.interval
        next_bundle = t0 + a.bundle_every
        cycle = 0

        replays = [0]

        def do_replay(extra=""):
            # each replay its own IP IDs: a fragment must not meet a queue an earlier replay left waiting
            replays[0] += 1
            n = replays[0]
            pcap = os.path.join(out, "frames.pcap")
            man = os.path.join(out, "frames.json")
            subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "soak", "frames.py"), pcap, man,
                            "--scale", str(a.scale), "--seed", str(n), "--ipid-base", str((n * 50 * a.scale) % 65536)],
                           check=True)
            with open(man) as f:
                m = json.load(f)
            r = inst.attach("ip netns exec ns2 tcpreplay -i veth1 %s" % pcap)
            ok = int(re.search(r"Successful packets:\s+(\d+)", r.stdout).group(1))
            failed = int(re.search(r"Failed packets:\s+(\d+)", r.stdout).group(1))
            replay["successful"] += ok
            replay["failed"] += failed
            replay["frames"] += m["frames"]
            for k, n in m["kinds"].items():
                replay["kinds"][k] = replay["kinds"].get(k, 0) + n
            replay["sets_complete"] += m["frag_sets_complete"]
            replay["sets_incomplete"] += m["frag_sets_incomplete"]
            if extra:
                replay[extra] += m["frames"]
                for k, n in m["kinds"].items():
                    replay["stopped_kinds"][k] = replay["stopped_kinds"].get(k, 0) + n

        def do_ping():
            r = inst.attach("ip netns exec ns1 ping -i 0.002 -c %d -W 1 10.0.0.2" % PING_COUNT, check=False)
            m = re.search(r"(\d+) packets transmitted, (\d+) received", r.stdout)
            if m:
                pings["transmitted"] += int(m.group(1))
                pings["received"] += int(m.group(2))

        def do_xdp():
            time.sleep(0.2)
            inst.attach("ip -n ns2 link set dev veth1 xdpgeneric obj %s sec xdp" % xdp_obj)
            events["xdp_attach"] += 1
            time.sleep(0.3)
            inst.attach("ip -n ns2 link set dev veth1 xdpgeneric off")
            events["xdp_detach"] += 1

        while time.time() - t0 < a.duration:
            cycle += 1
            work = [threading.Thread(target=do_replay), threading.Thread(target=do_ping)]
            if not xdp_reason:
                work.append(threading.Thread(target=do_xdp))
            for w in work:
                w.start()
            for w in work:
                w.join()
            events["cycles"] = cycle
            now = time.time()
            if udp_id is not None and now >= next_bundle and now - t0 < a.duration:
                # stop and start the udp bundle: quiet first, so the counters read before the stop
                # are its last (its MIB starts again at 0), and the sink's queue is empty
                time.sleep(1)
                c = sample(force_gc=False)
                events["recvq_lost_bytes"] += c.get("ns2.udp_recvq_bytes", 0)
                inst.attach("($.context bundle %d) stop" % udp_id)
                sink.wait(30)
                do_replay("while_udp_stopped")  # UDP now ends on IpInUnknownProtos
                time.sleep(0.5)
                sample(force_gc=False)
                inst.attach("($.context bundle %d) start" % udp_id)
                time.sleep(0.5)
                sample(force_gc=False)
                sink = inst.background("ip netns exec ns2 nc -u -l -k %d" % SINK_PORT, "sink.log")
                time.sleep(1)
                events["bundle_restarts"] += 1
                next_bundle = time.time() + a.bundle_every
            if time.time() >= next_sample:
                sample()
                next_sample += a.interval
        # let the incomplete fragment sets time out and the sink drain, then read the last counters
        log("load stopped after %d cycles; waiting %ds for reassembly queues to time out" % (cycle, frag_time + 3))
        time.sleep(frag_time + 3)
        final = sample()
        t_end = time.time() - t0
    finally:
        try:
            inst.stop()
        except Exception as e:  # the report matters more than a clean stop
            log("stop: %s" % e)

    d = totals
    kinds = replay["kinds"]
    checks = []

    def check(name, left, right, detail=""):
        checks.append((name, left == right, "%s == %s %s" % (left, right, detail)))

    # Memory: heap after a full GC and RSS, first third of the samples against the last third.
    heaps = [r[1] for r in rows if r[1] > 0]
    rss = [r[2] for r in rows if r[2] > 0]
    third = max(1, len(heaps) // 3)
    h_first, h_last = statistics.median(heaps[:third]), statistics.median(heaps[-third:])
    r_first, r_last = statistics.median(rss[:third]), statistics.median(rss[-third:])
    heap_ok = h_last <= h_first * 1.10 + 8 * 1024
    timed = [(r[0], r[1]) for r in rows if r[1] > 0]
    slope = 0.0  # least squares, KiB per minute, of heap after GC over the run
    if len(timed) > 1:
        mt = statistics.mean(t for t, _ in timed)
        mh = statistics.mean(h for _, h in timed)
        den = sum((t - mt) ** 2 for t, _ in timed)
        slope = 60 * sum((t - mt) * (h - mh) for t, h in timed) / den if den else 0.0
    rss_ok = r_last <= r_first * 1.25 + 64 * 1024
    checks.append(("heap after GC flat (last third <= first third x1.10 + 8 MiB)", heap_ok,
                   "%d KiB -> %d KiB (%+.1f%%; slope %+.1f KiB/min)" % (
                       h_first, h_last, 100.0 * (h_last - h_first) / max(1, h_first), slope)))
    checks.append(("RSS bounded (last third <= first third x1.25 + 64 MiB)", rss_ok,
                   "%d KiB -> %d KiB (%+.1f%%)" % (r_first, r_last, 100.0 * (r_last - r_first) / max(1, r_first))))

    L2 = "ns2.veth1."
    nohandler_inj = kinds.get("unknown_ethertype", 0)
    arp_inj = kinds.get("arp", 0) + kinds.get("arp_truncated", 0)
    offered = replay["successful"] + replay["failed"] + d["ns1.veth0.tx_packets"]
    xdp_nonpass = sum(d[L2 + "ethtool." + k] for k in ("xdp_drop", "xdp_aborted", "xdp_tx", "xdp_redirect"))
    check("veth1: frames offered (replayed + from veth0) == rx_packets + rx_errors + rx_missed + XDP non-pass + rx_dropped - unknown ethertypes",
          offered, d[L2 + "rx_packets"] + d[L2 + "rx_errors"] + d[L2 + "rx_missed"] + xdp_nonpass + d[L2 + "rx_dropped"] - nohandler_inj)
    check("veth1: rx_dropped == injected unknown ethertypes", d[L2 + "rx_dropped"], nohandler_inj)
    check("veth1: rx_packets == injected ARP + unknown ethertypes + rx_otherhost_dropped + ns2 IpInReceives",
          d[L2 + "rx_packets"], arp_inj + nohandler_inj + d[L2 + "rx_err_otherhost"] + d["ns2.IpInReceives"])
    ip_out = sum(d["ns2.Ip" + k] for k in ("InDelivers", "InHdrErrors", "InTruncatedPkts", "InAddrErrors", "InDiscards",
                                           "InUnknownProtos", "InNoRoutes", "ForwDatagrams"))
    check("ns2 IP: InReceives == InDelivers + InHdrErrors + InTruncatedPkts + InAddrErrors + InDiscards + InUnknownProtos"
          " + InNoRoutes + ForwDatagrams + (ReasmReqds - ReasmOKs)",
          d["ns2.IpInReceives"], ip_out + d["ns2.IpReasmReqds"] - d["ns2.IpReasmOKs"])
    l4 = d["ns2.IcmpInMsgs"] + sum(d["ns2.Udp" + k] for k in ("InDatagrams", "NoPorts", "InErrors", "IgnoredMulti"))
    check("ns2 L4: IpInDelivers == IcmpInMsgs + UdpInDatagrams + UdpNoPorts + UdpInErrors + UdpIgnoredMulti + datagrams left in sockets",
          d["ns2.IpInDelivers"], l4, "(sink queue at end %d bytes, lost at bundle stops %d bytes)" % (
              final.get("ns2.udp_recvq_bytes", 0), events["recvq_lost_bytes"]))
    check("ns1 ICMP: ping's transmitted == IcmpOutEchos", pings["transmitted"], d["ns1.IcmpOutEchos"])
    check("ns1 ICMP: ping's received == IcmpInEchoReps", pings["received"], d["ns1.IcmpInEchoReps"])
    check("echo requests: ns1 IcmpOutEchos == ns2 IcmpInEchos + veth1 xdp_drop + veth1 rx_missed",
          d["ns1.IcmpOutEchos"], d["ns2.IcmpInEchos"] + d[L2 + "ethtool.xdp_drop"] + d[L2 + "rx_missed"])
    check("echo replies: ns2 IcmpOutEchoReps == ns2 IcmpInEchos", d["ns2.IcmpOutEchoReps"], d["ns2.IcmpInEchos"])
    # ICMP errors: every packet that earns one (no port, no protocol for a unicast, a reassembly that
    # timed out with its first fragment) sends it, or the rate limit holds it back, or no buffer was free
    earned = (d["ns2.UdpNoPorts"] + d["ns2.IpInUnknownProtos"] - replay["stopped_kinds"].get("udp_broadcast", 0)
              + d["ns2.IpReasmTimeout"])
    check("ns2 ICMP errors: UdpNoPorts + IpInUnknownProtos (unicast) + IpReasmTimeout == IcmpOutDestUnreachs"
          " + IcmpOutTimeExcds + IcmpOutParmProbs + IcmpOutRateLimitGlobal + IcmpOutRateLimitHost + IcmpOutErrors", earned,
          sum(d["ns2.Icmp" + k] for k in ("OutDestUnreachs", "OutTimeExcds", "OutParmProbs", "OutRateLimitGlobal",
                                                 "OutRateLimitHost", "OutErrors")))
    check("ICMP errors arrive: ns2 IcmpOutDestUnreachs + IcmpOutTimeExcds == ns1 IcmpInDestUnreachs + IcmpInTimeExcds",
          d["ns2.IcmpOutDestUnreachs"] + d["ns2.IcmpOutTimeExcds"], d["ns1.IcmpInDestUnreachs"] + d["ns1.IcmpInTimeExcds"])
    L1 = "ns1.veth0."
    check("veth0: veth1 tx_packets == veth0 rx_packets + rx_errors + rx_missed + rx_dropped",
          d[L2 + "tx_packets"], d[L1 + "rx_packets"] + d[L1 + "rx_errors"] + d[L1 + "rx_missed"] + d[L1 + "rx_dropped"])
    exact = d[L2 + "rx_missed"] == 0
    suffix = "" if exact else " (ring drops: skipped)"
    if exact:
        check("rx_otherhost_dropped == injected frames for another MAC", d[L2 + "rx_err_otherhost"], kinds.get("otherhost", 0))
        if "ns2.arp_cache.rcv_probes_mcast" in d.delta:
            check("ARP: rcv_probes_mcast == injected ARP requests", d["ns2.arp_cache.rcv_probes_mcast"], kinds.get("arp", 0))
        check("IpReasmOKs == complete fragment sets injected", d["ns2.IpReasmOKs"], replay["sets_complete"])
        check("IpReasmFails == incomplete fragment sets injected (timed out)", d["ns2.IpReasmFails"], replay["sets_incomplete"])
        check("IpReasmTimeout == incomplete fragment sets injected", d["ns2.IpReasmTimeout"], replay["sets_incomplete"])
    else:
        checks.append(("exact per-kind checks" + suffix, True, "rx_missed %d" % d[L2 + "rx_missed"]))
    check("the sink's socket queue is empty at the end (Recv-Q bytes)", final.get("ns2.udp_recvq_bytes", 0), 0)

    unaccounted = sum(0 if ok else 1 for _, ok, _ in checks)
    summary = {
        "duration_s": round(t_end), "samples": len(rows), "cycles": events["cycles"],
        "frames_replayed": replay["frames"], "replay_successful": replay["successful"], "replay_failed": replay["failed"],
        "pings_transmitted": pings["transmitted"], "pings_received": pings["received"],
        "xdp_attach_detach": events["xdp_attach"], "xdp_skipped": xdp_reason, "udp_bundle_restarts": events["bundle_restarts"],
        "heap_after_gc_kb_first_third": h_first, "heap_after_gc_slope_kb_per_min": round(slope, 1), "heap_after_gc_kb_last_third": h_last,
        "rss_kb_first_third": r_first, "rss_kb_last_third": r_last,
        "neigh_entries_max": max(r[4 + counter_keys.index("ns2.neigh_entries")] for r in rows) if "ns2.neigh_entries" in counter_keys else None,
        "kinds": kinds, "deltas": {k: v for k, v in sorted(d.delta.items()) if v},
        "checks": [{"check": n, "pass": ok, "values": v} for n, ok, v in checks],
    }
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print()
    print("soak: %ds, %d samples, %d cycles: %d frames replayed, %d pings, %d XDP attach/detach, %d udp bundle restarts" % (
        t_end, len(rows), events["cycles"], replay["frames"], pings["transmitted"], events["xdp_attach"], events["bundle_restarts"]))
    for n, ok, v in checks:
        print("%s  %s: %s" % ("PASS" if ok else "FAIL", n, v))
    print("soak: results in %s (samples.csv, summary.json)" % out)
    return 0 if unaccounted == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

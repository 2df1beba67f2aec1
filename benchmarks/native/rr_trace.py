#!/usr/bin/env python3
"""The slow round trips' phases: tcp_rr's per round trip times (TCP_RR_TRACE) joined with modnet's TAP
frame trace (-Dmodnet.tap.trace), both CLOCK_MONOTONIC nanoseconds on one machine.

    rr_trace.py CLIENT_TRACE TAP_TRACE

For each round trip: in = the client's send began -> modnet read the request's frame from the TAP; modnet =
that read -> modnet's write of the answer began; out = that write began -> the client had the whole answer
(Linux's receive in the write's context, the client's wake-up). Who read the frame: httpd's busy poll, the
softirq after the queue's interrupt, or the softirq otherwise (the NAPI watchdog, an IRQ resume). Printed for
all round trips, for those over p99, and the slowest 25 one by one.
"""
import bisect
import sys

WHO = {0: "busy poll", 1: "softirq after irq", 2: "softirq (watchdog/resume)"}


def main(client, tap):
    rts = [tuple(map(int, l.split())) for l in open(client)]
    rx, who, tx, txd = [], [], [], []
    for l in open(tap):
        f = l.split()
        if f[0] == "rx":
            rx.append(int(f[1]))
            who.append(int(f[2]))
        else:
            tx.append((int(f[1]), int(f[2])))
    order = sorted(range(len(rx)), key=rx.__getitem__)
    rx = [rx[i] for i in order]
    who = [who[i] for i in order]
    tx.sort()
    txa = [t[0] for t in tx]
    rows = []
    for a, s, b in rts:
        i = bisect.bisect_left(rx, a)
        if i >= len(rx) or rx[i] > b:
            continue
        j = bisect.bisect_right(txa, b) - 1
        if j < 0 or txa[j] < rx[i]:
            continue
        prev_b = rows[-1][6] if rows else a
        rows.append((b - a, rx[i] - a, txa[j] - rx[i], tx[j][1] - txa[j], b - txa[j], who[i], b, a - prev_b, s - a))
    if not rows:
        print("no round trip matched (were both traces from the same run?)")
        return
    rows_by = sorted(rows)
    p99 = rows_by[int(len(rows_by) * 0.99)][0]
    print("%d of %d round trips matched with their frames; p50 %.1f us, p99 %.1f us" % (
        len(rows), len(rts), rows_by[len(rows_by) // 2][0] / 1e3, p99 / 1e3))

    def summary(name, sel):
        n = len(sel)
        if n == 0:
            return
        med = lambda k: sorted(r[k] for r in sel)[n // 2] / 1e3
        mean = lambda k: sum(r[k] for r in sel) / n / 1e3
        print("%-18s %7d RTs  total %6.1f/%6.1f  in %6.1f/%6.1f (client send %5.1f)  modnet %6.1f/%6.1f  out %6.1f/%6.1f (write %5.1f)  us median/mean" % (
            name, n, med(0), mean(0), med(1), mean(1), med(8), med(2), mean(2), med(4), mean(4), med(3)))
        ws = {}
        for r in sel:
            ws[r[5]] = ws.get(r[5], 0) + 1
        print("%-18s read by: %s" % ("", ", ".join("%s %.1f%%" % (WHO[k], 100.0 * v / n) for k, v in sorted(ws.items()))))
        # which phase is the one that is long, beside the median round trip's own
        base = [med(1), med(2), med(4)]
        blame = [0, 0, 0]
        for r in sel:
            ex = [r[1] / 1e3 - base[0], r[2] / 1e3 - base[1], r[4] / 1e3 - base[2]]
            blame[ex.index(max(ex))] += 1
        print("%-18s longest beside the median: in %.1f%%, modnet %.1f%%, out %.1f%%" % ("", *(100.0 * x / n for x in blame)))

    summary("all", rows)
    summary("over p99", [r for r in rows if r[0] > p99])
    summary("60 us and over", [r for r in rows if r[0] >= 60000])
    print("the 25 slowest (us): total, in, modnet, out, write, who read, idle before its send")
    for r in sorted(rows, reverse=True)[:25]:
        print("  %8.1f %8.1f %8.1f %8.1f %6.1f  %-26s %8.1f" % (r[0] / 1e3, r[1] / 1e3, r[2] / 1e3, r[4] / 1e3, r[3] / 1e3, WHO[r[5]], r[7] / 1e3))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
